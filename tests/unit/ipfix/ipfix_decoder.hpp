// Test-only IPFIX collector: reads RFC 7011 messages from their bytes alone
// (header, Template Sets, Data Sets decoded with the templates it has seen),
// never from the encoder's tables, so a round trip checks the wire format and
// not the encoder against itself. Any structural error is recorded in
// `errors` rather than thrown, so a test can assert there are none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace sf::test {

struct FieldSpec {
  std::uint32_t pen = 0;  // 0: IANA
  std::uint16_t id = 0;
  std::uint16_t length = 0;  // 65535: variable
  bool operator==(const FieldSpec&) const = default;
};

struct DecodedTemplate {
  std::uint16_t id = 0;
  std::vector<FieldSpec> fields;
};

using ElementKey = std::pair<std::uint32_t, std::uint16_t>;  // (pen, id)

struct DecodedRecord {
  std::uint16_t template_id = 0;
  std::map<ElementKey, std::vector<std::uint8_t>> values;
  std::map<ElementKey, unsigned> varlen_prefix;  // variable-length fields: 1 or 3 length bytes

  bool has(std::uint32_t pen, std::uint16_t id) const { return values.count({pen, id}) != 0; }
  std::uint64_t uint(std::uint32_t pen, std::uint16_t id) const {
    const auto it = values.find({pen, id});
    if (it == values.end()) return ~std::uint64_t{0};
    std::uint64_t v = 0;
    for (const std::uint8_t b : it->second) v = (v << 8) | b;
    return v;
  }
  std::uint64_t uint(std::uint16_t id) const { return uint(0, id); }
  std::string text(std::uint32_t pen, std::uint16_t id) const {
    const auto it = values.find({pen, id});
    if (it == values.end()) return "<absent>";
    return std::string(it->second.begin(), it->second.end());
  }
  std::vector<std::uint8_t> bytes(std::uint32_t pen, std::uint16_t id) const {
    const auto it = values.find({pen, id});
    return it == values.end() ? std::vector<std::uint8_t>{} : it->second;
  }
};

struct DecodedSet {
  std::uint16_t id = 0;
  std::uint16_t length = 0;
};

struct DecodedMessage {
  std::uint16_t version = 0;
  std::uint16_t length = 0;
  std::uint32_t export_time = 0;
  std::uint32_t sequence = 0;
  std::uint32_t domain = 0;
  std::size_t wire_size = 0;
  std::vector<DecodedSet> sets;
  std::vector<std::uint16_t> templates_defined;
  std::vector<DecodedRecord> records;
};

class IpfixDecoder {
 public:
  std::map<std::uint16_t, DecodedTemplate> templates;
  std::vector<std::string> errors;

  DecodedMessage decode(std::span<const std::uint8_t> m) {
    DecodedMessage out;
    out.wire_size = m.size();
    if (m.size() < 16) {
      errors.push_back("message shorter than its header");
      return out;
    }
    out.version = be16(m, 0);
    out.length = be16(m, 2);
    out.export_time = be32(m, 4);
    out.sequence = be32(m, 8);
    out.domain = be32(m, 12);
    if (out.version != 10) errors.push_back("version " + std::to_string(out.version));
    if (out.length != m.size()) errors.push_back("header length != message size");
    std::size_t off = 16;
    while (off < m.size()) {
      if (m.size() - off < 4) {
        errors.push_back("trailing bytes after the last set");
        break;
      }
      DecodedSet set{be16(m, off), be16(m, off + 2)};
      out.sets.push_back(set);
      if (set.length < 4 || off + set.length > m.size()) {
        errors.push_back("set length out of bounds");
        break;
      }
      const std::span<const std::uint8_t> body = m.subspan(off + 4, set.length - 4U);
      if (set.id == 2) {
        template_set(body, out);
      } else if (set.id >= 256) {
        data_set(set.id, body, out);
      } else {
        errors.push_back("unexpected set id " + std::to_string(set.id));
      }
      off += set.length;
    }
    return out;
  }

 private:
  static std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t o) {
    return static_cast<std::uint16_t>((b[o] << 8) | b[o + 1]);
  }
  static std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t o) {
    return (std::uint32_t{be16(b, o)} << 16) | be16(b, o + 2);
  }

  void template_set(std::span<const std::uint8_t> b, DecodedMessage& out) {
    std::size_t o = 0;
    while (b.size() - o >= 4) {
      DecodedTemplate t;
      t.id = be16(b, o);
      const std::uint16_t count = be16(b, o + 2);
      o += 4;
      if (t.id < 256) {
        errors.push_back("template id below 256");
        return;
      }
      for (std::uint16_t i = 0; i < count; ++i) {
        if (b.size() - o < 4) {
          errors.push_back("template record overruns its set");
          return;
        }
        FieldSpec f;
        const std::uint16_t raw = be16(b, o);
        f.id = raw & 0x7fff;
        f.length = be16(b, o + 2);
        o += 4;
        if (raw & 0x8000) {
          if (b.size() - o < 4) {
            errors.push_back("enterprise number overruns its set");
            return;
          }
          f.pen = be32(b, o);
          o += 4;
        }
        t.fields.push_back(f);
      }
      out.templates_defined.push_back(t.id);
      templates[t.id] = t;
    }
    if (o != b.size()) errors.push_back("template set has padding");  // we never pad
  }

  void data_set(std::uint16_t id, std::span<const std::uint8_t> b, DecodedMessage& out) {
    const auto it = templates.find(id);
    if (it == templates.end()) {
      errors.push_back("data set for unknown template " + std::to_string(id));
      return;
    }
    std::size_t o = 0;
    while (o < b.size()) {
      DecodedRecord r;
      r.template_id = id;
      for (const FieldSpec& f : it->second.fields) {
        std::size_t len = f.length;
        unsigned prefix = 0;
        if (f.length == 65535) {
          if (o >= b.size()) return overrun();
          len = b[o];
          prefix = 1;
          if (len == 255) {
            if (b.size() - o < 3) return overrun();
            len = be16(b, o + 1);
            prefix = 3;
            if (len < 255) errors.push_back("3-byte length form for a short string");
          }
          o += prefix;
        }
        if (b.size() - o < len) return overrun();
        r.values[{f.pen, f.id}] = std::vector<std::uint8_t>(b.begin() + static_cast<std::ptrdiff_t>(o),
                                                             b.begin() + static_cast<std::ptrdiff_t>(o + len));
        if (prefix != 0) r.varlen_prefix[{f.pen, f.id}] = prefix;
        o += len;
      }
      out.records.push_back(std::move(r));
    }
  }
  void overrun() { errors.push_back("data record overruns its set"); }
};

}  // namespace sf::test
