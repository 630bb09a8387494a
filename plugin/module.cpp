// collectd front end: `LoadPlugin tcpanomaly`. A thin adapter: the config
// block goes through the core's settings table, init starts the core's
// engine, every read dispatches the whole catalogue. No exception may cross
// into collectd (it is C): every callback catches everything.
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "collectd_api.hpp"
#include "config_block.hpp"
#include "tcpanomaly/encode.hpp"
#include "tcpanomaly/settings.hpp"
#include "tcpanomaly/engine.hpp"
#include "value_names.hpp"

namespace tcpanomaly::collectd_plugin {
namespace {

constexpr const char* kPluginName = "tcpanomaly";

struct PluginState {
  EngineConfig config;
  bool configured = false;
  std::unique_ptr<Engine> engine;
  plugin_ctx_t context{};  // collectd's context of init, given to capture threads
};

PluginState& state() {
  static PluginState s;
  return s;
}

void log_text(int level, const std::string& text) { TCPANOMALY_LOG(level, text); }

void log_from_engine(LogLevel level, const std::string& text) {
  const int l = level == LogLevel::error ? LOG_ERR : level == LogLevel::warning ? LOG_WARNING
                : level == LogLevel::info ? LOG_INFO : LOG_DEBUG;
  log_text(l, text);
}

template <class F>
int guarded(const char* what, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    log_text(LOG_ERR, std::string(what) + ": " + e.what());
  } catch (...) {
    log_text(LOG_ERR, std::string(what) + ": unknown error");
  }
  return -1;
}

bool copy_name(char* dst, std::size_t size, const std::string& src) {
  return std::snprintf(dst, size, "%s", src.c_str()) < static_cast<int>(size);
}

int on_config(oconfig_item_t* block) {
  return guarded("config", [block] {
    std::string error;
    if (!apply_block(*block, state().config, error)) {
      log_text(LOG_ERR, error);
      return -1;  // collectd refuses to start, as with its own plugins
    }
    try {
      validate(state().config);
    } catch (const ConfigError& e) {
      log_text(LOG_ERR, key_name(e.key) + ": " + e.problem);
      return -1;
    }
    state().configured = true;
    return 0;
  });
}

int on_init() {
  return guarded("init", [] {
    PluginState& s = state();
    if (!s.configured) {
      log_text(LOG_ERR, "no <Plugin tcpanomaly> block with an Interface or ReadFile; plugin disabled");
      return -1;
    }
    if (s.engine) return 0;  // collectd may call init again after a reload
    s.context = plugin_get_ctx();
    EngineHooks hooks;
    hooks.log = log_from_engine;
    hooks.thread_start = [] { plugin_set_ctx(state().context); };
    s.engine = std::make_unique<Engine>(s.config, hooks);
    s.engine->start();
    return 0;
  });
}

int dispatch(const Sample& sample, cdtime_t now) {
  value_list_t vl{};
  value_t value{};
  if (collectd_names::value_type_of(sample) == collectd_names::ValueType::gauge)
    value.gauge = sample.is_float ? sample.real : static_cast<gauge_t>(sample.integer);
  else
    value.derive = static_cast<derive_t>(sample.integer);
  vl.values = &value;
  vl.values_len = 1;
  vl.time = now;
  const bool fits = copy_name(vl.plugin, sizeof vl.plugin, kPluginName) &&
                    copy_name(vl.plugin_instance, sizeof vl.plugin_instance, sample.labels->interface) &&
                    copy_name(vl.type, sizeof vl.type, collectd_names::type_of(sample)) &&
                    copy_name(vl.type_instance, sizeof vl.type_instance, collectd_names::type_instance_of(sample));
  if (!fits) return -1;
  return plugin_dispatch_values(&vl);
}

int on_read() {
  return guarded("read", [] {
    PluginState& s = state();
    if (!s.engine) return -1;
    const cdtime_t now = cdtime();
    int failed = 0;
    const Snapshot snap = s.engine->snapshot();  // samples point into it
    for (const Sample& sample : flatten(snap))
      if (dispatch(sample, now) != 0) ++failed;
    if (failed > 0) log_text(LOG_WARNING, std::to_string(failed) + " values could not be dispatched");
    return 0;
  });
}

int on_shutdown() {
  return guarded("shutdown", [] {
    PluginState& s = state();
    if (s.engine) s.engine->stop();
    s.engine.reset();
    return 0;
  });
}

void register_data_sets() {
  for (const auto& spec : collectd_names::data_sets()) {
    if (!spec.register_it) continue;
    data_source_t source{};
    copy_name(source.name, sizeof source.name, "value");
    source.type = spec.value_type == collectd_names::ValueType::gauge ? DS_TYPE_GAUGE : DS_TYPE_DERIVE;
    source.min = 0;
    source.max = NAN;
    data_set_t set{};
    copy_name(set.type, sizeof set.type, spec.type);
    set.ds_num = 1;
    set.ds = &source;
    plugin_register_data_set(&set);  // copies the set
  }
}

}  // namespace
}  // namespace tcpanomaly::collectd_plugin

// Built with hidden visibility: this is the one symbol collectd looks up.
extern "C" __attribute__((visibility("default"))) void module_register(void) {
  using namespace tcpanomaly::collectd_plugin;
  try {
    register_data_sets();
    plugin_register_complex_config(kPluginName, on_config);
    plugin_register_init(kPluginName, on_init);
    plugin_register_read(kPluginName, on_read);
    plugin_register_shutdown(kPluginName, on_shutdown);
  } catch (...) {
    // Nothing may escape into collectd; without registrations the plugin is inert.
  }
}
