// pcap_read_floor: the I/O floor for capture-file benchmarks (tools/bench/compare_capture.py).
//
// Reads a capture with libpcap exactly as a flow tool would (nanosecond timestamps, pcap_next_ex
// to the end) and does nothing with the packets but fold them into a checksum, so the time it
// takes is what any libpcap-based reader must pay before doing real work.
//
// Usage: pcap_read_floor FILE
// Output: one JSON line {"packets":N,"bytes":N,"checksum":N,"seconds":S,"libpcap":"..."};
// exit 1 on any error.

#include <pcap/pcap.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 1;
    }
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    const auto start = std::chrono::steady_clock::now();
    pcap_t* pcap = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO,
                                                           errbuf);
    if (pcap == nullptr) {
        std::fprintf(stderr, "pcap_read_floor: %s\n", errbuf);
        return 1;
    }

    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    // Reading the first byte and a timestamp field of every packet keeps the loop from being
    // optimized into a bare header walk: real tools touch both.
    std::uint64_t checksum = 0;
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    int rc = 0;
    while ((rc = pcap_next_ex(pcap, &hdr, &data)) == 1) {
        ++packets;
        bytes += hdr->caplen;
        checksum ^= static_cast<std::uint64_t>(hdr->caplen > 0 ? data[0] : 0) << (packets % 56);
        checksum += static_cast<std::uint64_t>(hdr->ts.tv_usec);
    }
    if (rc != PCAP_ERROR_BREAK) {  // -2 is the normal end of a savefile
        std::fprintf(stderr, "pcap_read_floor: after %llu packets: %s\n",
                     static_cast<unsigned long long>(packets), pcap_geterr(pcap));
        pcap_close(pcap);
        return 1;
    }
    pcap_close(pcap);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

    // pcap_lib_version() is plain text ("libpcap version 1.10.3 (with TPACKET_V3)"): no escaping.
    std::printf("{\"packets\":%llu,\"bytes\":%llu,\"checksum\":%llu,\"seconds\":%.6f,"
                "\"libpcap\":\"%s\"}\n",
                static_cast<unsigned long long>(packets), static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(checksum), elapsed.count(), pcap_lib_version());
    return 0;
}
