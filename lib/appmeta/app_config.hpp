// Application metadata settings (YAML app.*; conf/shardflow.yaml documents them).
#pragma once

#include <cstdint>

namespace sf {

struct AppConfig {
  bool enabled = true;                      // app.enabled: DNS, TLS and HTTP metadata (TCP needs reassembly)
  std::uint32_t flows_per_worker = 65536;   // app.flows_per_worker: flows with metadata at once, per worker
  std::uint32_t buffers_per_worker = 1024;  // app.buffers_per_worker: messages being assembled at once
  std::uint32_t buffer_bytes = 16384;       // app.buffer_bytes: byte cap of one message (ClientHello, HTTP head, DNS/TCP)
};

}  // namespace sf
