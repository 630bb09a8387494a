// The real tcpanomaly.so, dlopen()ed by a stand-in for the collectd daemon
// that exports the few collectd functions the plugin uses. Checks what the
// real daemon can't show from outside: init starts one capture thread per
// interface (an absent one included), every read dispatches the same full set
// of values into registered types, and shutdown joins every thread within
// 1 s, leaving exactly the threads there were before init.
//
// usage: plugin_lifecycle_test PATH/tcpanomaly.so
#include <dirent.h>
#include <dlfcn.h>

#include <chrono>
#include <mutex>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <collectd/core/daemon/collectd.h>
#include <collectd/core/daemon/plugin.h>
}

namespace {

int (*g_config)(oconfig_item_t*) = nullptr;
int (*g_init)() = nullptr;
int (*g_read)() = nullptr;
int (*g_shutdown)() = nullptr;
std::set<std::string> g_types{"packets", "total_bytes"};  // from types.db
std::vector<std::string> g_log;
std::mutex g_log_lock;  // capture threads log concurrently, as collectd's plugin_log allows
int g_dispatched = 0, g_unknown_type = 0, g_wrong_plugin = 0;

int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

int failures = 0;
void check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  failures += !ok;
}

}  // namespace

// --- the collectd functions the plugin links against --------------------
extern "C" {
int plugin_register_complex_config(const char*, int (*cb)(oconfig_item_t*)) { g_config = cb; return 0; }
int plugin_register_init(const char*, plugin_init_cb cb) { g_init = cb; return 0; }
int plugin_register_read(const char*, int (*cb)(void)) { g_read = cb; return 0; }
int plugin_register_shutdown(const char*, plugin_shutdown_cb cb) { g_shutdown = cb; return 0; }
int plugin_register_data_set(const data_set_t* ds) { g_types.insert(ds->type); return 0; }
int plugin_dispatch_values(value_list_t const* vl) {
  ++g_dispatched;
  g_unknown_type += !g_types.count(vl->type);
  g_wrong_plugin += std::strcmp(vl->plugin, "tcpanomaly") != 0 || vl->plugin_instance[0] == '\0';
  return 0;
}
void plugin_log(int, const char* format, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  std::lock_guard<std::mutex> guard(g_log_lock);
  std::printf("  log: %s\n", buf);
  g_log.emplace_back(buf);
}
plugin_ctx_t plugin_get_ctx(void) { return plugin_ctx_t{}; }
plugin_ctx_t plugin_set_ctx(plugin_ctx_t ctx) { return ctx; }
cdtime_t cdtime(void) { return 0; }
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  void* so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!so) {
    std::printf("FAIL dlopen: %s\n", dlerror());
    return 1;
  }
  auto module_register = reinterpret_cast<void (*)()>(dlsym(so, "module_register"));
  check(module_register != nullptr, "module_register exported");
  if (!module_register) return 1;
  module_register();
  check(g_config && g_init && g_read && g_shutdown, "config, init, read and shutdown registered");
  check(g_types.size() > 40, "custom data sets registered (" + std::to_string(g_types.size()) + " types)");
  check(g_read() != 0, "read before init fails cleanly");

  // <Plugin tcpanomaly> Interface "lo" "tcpa-absent9" </Plugin>
  char key[] = "Interface", lo[] = "lo", absent[] = "tcpa-absent9", block_key[] = "Plugin";
  oconfig_value_t values[2]{};
  values[0].type = values[1].type = OCONFIG_TYPE_STRING;
  values[0].value.string = lo;
  values[1].value.string = absent;
  oconfig_item_t child{};
  child.key = key;
  child.values = values;
  child.values_num = 2;
  oconfig_item_t block{};
  block.key = block_key;
  block.children = &child;
  block.children_num = 1;
  check(g_config(&block) == 0, "config accepted");

  const int before = thread_count();
  check(g_init() == 0, "init succeeds with one interface absent");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  check(thread_count() == before + 2, "one capture thread per interface (" + std::to_string(thread_count() - before) + ")");

  check(g_read() == 0, "read succeeds");
  const int per_read = g_dispatched;
  check(g_read() == 0 && g_dispatched == 2 * per_read, "every read dispatches the same set of values (" +
                                                           std::to_string(per_read) + ")");
  check(g_unknown_type == 0, "every value goes to a registered type");
  check(g_wrong_plugin == 0, "every value has plugin tcpanomaly and an interface as plugin_instance");
  bool absent_logged = false;
  {
    std::lock_guard<std::mutex> guard(g_log_lock);
    for (const auto& l : g_log) absent_logged |= l.find("tcpa-absent9") != std::string::npos;
  }
  check(absent_logged, "the absent interface is logged");

  const auto t0 = std::chrono::steady_clock::now();
  check(g_shutdown() == 0, "shutdown succeeds");
  const double stop_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  shutdown took %.3f s\n", stop_s);
  check(stop_s < 1.0, "shutdown within 1 s");
  check(thread_count() == before, "no thread left after shutdown (" + std::to_string(thread_count()) + " vs " +
                                      std::to_string(before) + ")");
  check(g_shutdown() == 0, "a second shutdown is harmless");
  return failures ? 1 : 0;
}
