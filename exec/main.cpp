// tcpanomaly: offline analysis (--read) and the Telegraf execd front end.
#include <cstdio>
#include <exception>
#include <iostream>

#include "live.hpp"
#include "options.hpp"
#include "render.hpp"
#include "tcpanomaly/encode.hpp"
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

// Runs before main and before static constructors of our own code: Telegraf
// can send its first SIGUSR1 a few milliseconds after starting us, and the
// default action would kill us.
[[gnu::constructor]] void block_signals_early() { cli::block_signals(); }

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
    if (o.show_version) {
      std::cout << "tcpanomaly " TCPANOMALY_VERSION "\n";
      return 0;
    }
    return o.engine.capture.read_file.empty() ? cli::run_live(o) : run_offline(o);
  } catch (const ConfigError& e) {
    // Name the setting the way the user wrote it: --syn-timeout, not syn_timeout.
    std::cerr << "E! tcpanomaly: " << cli::option_name(e.key) << ": " << e.problem << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "E! tcpanomaly: " << e.what() << "\n";
    return 2;
  }
}
