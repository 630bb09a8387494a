// tcpanomaly: offline analysis (--read) and the Telegraf execd front end.
#include <cstdio>
#include <exception>
#include <iostream>

#include "options.hpp"
#include "tcpanomaly/encode.hpp"
#include "tcpanomaly/engine.hpp"

using namespace tcpanomaly;

namespace {

std::string encode(const Snapshot& snap, cli::Format f) {
  switch (f) {
    case cli::Format::json: return to_json(snap);
    case cli::Format::table: return to_table(snap);
    default: return to_line_protocol(snap);
  }
}

int run_offline(const cli::Options& o) {
  Engine engine(o.engine);
  engine.run_file();
  const std::string out = encode(engine.snapshot(), o.format);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const cli::Options o = cli::parse(argc, argv);
    if (o.show_help) {
      std::cout << o.help_text;
      return 0;
    }
    if (o.show_version) {
      std::cout << "tcpanomaly " TCPANOMALY_VERSION "\n";
      return 0;
    }
    if (!o.engine.capture.read_file.empty()) return run_offline(o);
    std::cerr << "E! tcpanomaly: live capture is not built into this version; use --read FILE\n";
    return 2;
  } catch (const ConfigError& e) {
    std::cerr << "E! tcpanomaly: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "E! tcpanomaly: " << e.what() << "\n";
    return 2;
  }
}
