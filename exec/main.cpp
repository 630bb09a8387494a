// tcpanomaly: offline analysis (--read) and the Telegraf execd front end.
#include <cstdio>
#include <exception>
#include <iostream>

#include "live.hpp"
#include "options.hpp"
#include "render.hpp"
#include "tcpanomaly/encode.hpp"
#include "tcpanomaly/settings.hpp"
#include "tcpanomaly/engine.hpp"

using namespace tcpanomaly;

namespace {

int run_offline(const cli::Options& o) {
  cli::unblock_signals();
  Engine engine(o.engine);
  engine.run_file();
  const std::string out = cli::render(engine.snapshot(), o.format, false);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

// Telegraf can send its first SIGHUP/SIGUSR1 a few milliseconds after
// starting us, and the default action would kill us. An executable's
// .preinit_array runs before the initialisers of every shared library
// (libstdc++, libpcap and its dependencies), the earliest a program can act.
void block_signals_early(int, char**, char**) { cli::block_signals(); }
[[gnu::used, gnu::section(".preinit_array")]] void (*const preinit_block_signals)(int, char**, char**) =
    block_signals_early;

}  // namespace

int main(int argc, char** argv) {
  try {
    const cli::Options o = cli::parse(argc, argv);
    if (o.show_help) {
      std::cout << o.help_text;
      return 0;
    }
    if (o.list_metrics) {
      std::cout << catalogue_markdown();
      return 0;
    }
    if (o.list_settings) {
      std::cout << cli::settings_json() << "\n";
      return 0;
    }
    if (o.show_version) {
      std::cout << "tcpanomaly " TCPANOMALY_VERSION "\n";
      return 0;
    }
    const bool offline = !o.engine.capture.read_file.empty() && !o.serve_file;
    return offline ? run_offline(o) : cli::run_live(o);
  } catch (const ConfigError& e) {
    // Name the setting the way the user wrote it: --syn-timeout, not syn_timeout.
    std::cerr << "E! tcpanomaly: " << cli::option_name(e.key) << ": " << e.problem << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "E! tcpanomaly: " << e.what() << "\n";
    return 2;
  }
}
