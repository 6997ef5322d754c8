// IPFIX (RFC 7011; RFC 5103 biflow) to a collector over UDP or TCP, or to a
// file: the encoder builds messages, the transport delivers them. Records
// are accounted per message: delivered when the message went out, lost by
// the transport's reason (buffer full, send error, shutdown) when it did not.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>

#include "common/result.hpp"
#include "config/config.hpp"
#include "export/record_sink.hpp"

namespace sf {

Result<std::unique_ptr<RecordSink>> open_ipfix_sink(const IpfixExportConfig& c, std::uint16_t community_id_seed);

}  // namespace sf
