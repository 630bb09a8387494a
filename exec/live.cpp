#include "live.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>

#include "privileges.hpp"
#include "render.hpp"
#include "tcpanomaly/engine.hpp"

namespace tcpanomaly::cli {
namespace {

using Clock = std::chrono::steady_clock;

// The signals we act on are blocked in every thread (see block_signals(),
// called first thing in main) and read from a signalfd by the output loop.
sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
  return set;
}

int trigger_signal(Trigger t) {
  switch (t) {
    case Trigger::sighup: return SIGHUP;
    case Trigger::sigusr1: return SIGUSR1;
    case Trigger::sigusr2: return SIGUSR2;
    default: return 0;
  }
}

// Telegraf's execd reads the level from the first letters of a stderr line.
void log_line(LogLevel level, const std::string& msg) {
  static std::mutex m;
  const char* prefix = level == LogLevel::error ? "E! " : level == LogLevel::warning ? "W! "
                       : level == LogLevel::info ? "I! " : "D! ";
  std::lock_guard<std::mutex> g(m);
  std::cerr << prefix << "tcpanomaly: " << msg << std::endl;
}

bool print(Engine& engine, Format format) {
  const std::string out = render(engine.snapshot(), format, true);
  return std::fwrite(out.data(), 1, out.size(), stdout) == out.size() && std::fflush(stdout) == 0;
}

// Reads what stdin has; returns the number of complete lines, -1 at EOF.
int read_stdin_lines() {
  char buf[256];
  const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
  if (n == 0) return -1;
  if (n < 0) return 0;
  int lines = 0;
  for (ssize_t i = 0; i < n; ++i) lines += buf[i] == '\n';
  return lines;
}

}  // namespace

void block_signals() {
  const sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A reader that went away (Telegraf stopped) shows up as a write error.
  signal(SIGPIPE, SIG_IGN);
}

void unblock_signals() {
  const sigset_t set = handled_signals();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

int run_live(const Options& o) {
  const sigset_t set = handled_signals();
  const int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) throw std::runtime_error("signalfd failed");
  Engine engine(o.engine, EngineHooks{log_line, nullptr});
  // Before any thread starts: capabilities are per thread, and the capture
  // threads inherit the reduced set. A file needs no capability at all.
  const bool live = o.engine.capture.read_file.empty();
  const std::string warning = drop_privileges(live, live && o.engine.capture.kernel_counters != "off");
  if (!warning.empty()) log_line(LogLevel::warning, warning);
  engine.start();

  const auto start = Clock::now();
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.interval_s));
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  auto next_print = start + interval;
  const bool stdin_trigger = o.trigger == Trigger::stdin_line;
  // Telegraf stops us by closing stdin, in every signal mode. A bounded run
  // (--duration) ignores stdin, which is /dev/null for background jobs.
  const bool watch_stdin = o.duration_s <= 0;
  const int print_signal = trigger_signal(o.trigger);

  for (;;) {
    const auto now = Clock::now();
    if (o.duration_s > 0 && now >= deadline) {
      // A bounded run (demo, test) ends with the final figures.
      return print(engine, o.format) ? 0 : 1;
    }
    if (o.trigger == Trigger::none && now >= next_print) {
      if (!print(engine, o.format)) return 0;  // reader gone: nothing left to do
      while (next_print <= now) next_print += interval;
    }
    auto wake = o.trigger == Trigger::none ? next_print : now + std::chrono::seconds(1);
    if (o.duration_s > 0 && deadline < wake) wake = deadline;
    const int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count()) + 1;

    pollfd fds[2] = {{sfd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    const int r = poll(fds, watch_stdin ? 2 : 1, wait_ms);
    if (r <= 0) continue;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      while (read(sfd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        const int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGTERM || sig == SIGINT) return 0;
        if (sig == print_signal && !print(engine, o.format)) return 0;  // reader gone
      }
    }
    if (watch_stdin && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      const int lines = read_stdin_lines();
      if (lines < 0) return 0;  // Telegraf closed our stdin: it is stopping
      if (stdin_trigger && lines > 0 && !print(engine, o.format)) return 0;
    }
  }
}

}  // namespace tcpanomaly::cli
