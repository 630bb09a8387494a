#include "live.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>

#include "render.hpp"
#include "tcpanomaly/engine.hpp"

namespace tcpanomaly::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Signals reach the loop through a self-pipe: the handler only writes one
// byte naming the signal, everything else happens on the main thread.
int g_signal_pipe[2] = {-1, -1};

void on_signal(int signo) {
  const int saved = errno;
  const char c = static_cast<char>(signo);
  [[maybe_unused]] const ssize_t n = write(g_signal_pipe[1], &c, 1);
  errno = saved;
}

void install_signals() {
  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2 failed");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaction(s, &sa, nullptr);
  // A reader that went away (Telegraf stopped) shows up as a write error.
  signal(SIGPIPE, SIG_IGN);
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

int run_live(const Options& o) {
  install_signals();
  Engine engine(o.engine, EngineHooks{log_line, nullptr});
  engine.start();

  const auto start = Clock::now();
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.interval_s));
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  auto next_print = start + interval;
  const bool stdin_trigger = o.trigger == Trigger::stdin_line;
  const int print_signal = trigger_signal(o.trigger);

  for (;;) {
    const auto now = Clock::now();
    if (o.duration_s > 0 && now >= deadline) {
      // A bounded run (demo, test) ends with the final figures.
      return print(engine, o.format) ? 0 : 1;
    }
    if (o.trigger == Trigger::none && now >= next_print) {
      if (!print(engine, o.format)) return 1;  // reader gone
      while (next_print <= now) next_print += interval;
    }
    auto wake = o.trigger == Trigger::none ? next_print : now + std::chrono::seconds(1);
    if (o.duration_s > 0 && deadline < wake) wake = deadline;
    const int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count()) + 1;

    pollfd fds[2] = {{g_signal_pipe[0], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    const int r = poll(fds, stdin_trigger ? 2 : 1, wait_ms);
    if (r <= 0) continue;
    if (fds[0].revents & POLLIN) {
      char sig = 0;
      while (read(g_signal_pipe[0], &sig, 1) == 1) {
        if (sig == SIGTERM || sig == SIGINT) return 0;
        if (sig == print_signal && !print(engine, o.format)) return 1;
      }
    }
    if (stdin_trigger && (fds[1].revents & (POLLIN | POLLHUP))) {
      const int lines = read_stdin_lines();
      if (lines < 0) return 0;  // Telegraf closed our stdin: it is stopping
      if (lines > 0 && !print(engine, o.format)) return 1;
    }
  }
}

}  // namespace tcpanomaly::cli
