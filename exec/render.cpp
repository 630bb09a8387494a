#include "render.hpp"

#include "tcpanomaly/encode.hpp"

namespace tcpanomaly::cli {

std::string render(const Snapshot& snap, Format format, bool stream) {
  switch (format) {
    case Format::json: return to_json(snap, stream ? -1 : 2);
    case Format::table: return to_table(snap);
    case Format::influx: break;
  }
  return to_line_protocol(snap);
}

}  // namespace tcpanomaly::cli
