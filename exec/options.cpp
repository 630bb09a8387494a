#include "options.hpp"

#include "tcpanomaly/settings.hpp"

#include <boost/program_options.hpp>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace po = boost::program_options;

namespace tcpanomaly::cli {
namespace {

template <class T>
T pick(const std::string& key, const std::string& value,
       std::initializer_list<std::pair<const char*, T>> accepted) {
  std::string names;
  for (const auto& [name, v] : accepted) {
    if (value == name) return v;
    names += names.empty() ? name : std::string(", ") + name;
  }
  throw std::runtime_error("--" + key + ": \"" + value + "\" is not accepted, accepted: " + names);
}

}  // namespace

std::string option_name(const std::string& core_key) {
  const Setting* s = find_setting_by_key(core_key);
  return "--" + (s ? std::string(s->cli) : core_key);
}

namespace {

// Short forms of the most used options, as tcpdump users type them.
const char* short_name(std::string_view cli) {
  if (cli == "interface") return "interface,i";
  if (cli == "read") return "read,r";
  if (cli == "filter") return "filter,f";
  return nullptr;
}

// The engine's settings (shared table, same as the collectd plugin's keys),
// every one as a text option: the table parses and names bad values itself.
void add_engine_settings(po::options_description& capture, po::options_description& analysis) {
  const EngineConfig defaults;
  for (const Setting& s : settings()) {
    std::string help(s.help);
    const std::string shown = s.show(defaults);
    if (!shown.empty()) help += " (default: " + shown + ")";
    const std::string name = short_name(s.cli) ? short_name(s.cli) : std::string(s.cli);
    std::string unit = s.unit.empty() ? "ARG" : std::string(s.unit);
    for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto& group = s.group == "capture" ? capture : analysis;
    if (s.type == SettingType::text_list) {
      group.add_options()(name.c_str(), po::value<std::vector<std::string>>()->composing()->value_name(unit),
                          help.c_str());
    } else if (s.type == SettingType::boolean) {
      // "--promiscuous" alone means true; "--host-addresses=false" in either place.
      group.add_options()(name.c_str(), po::value<std::string>()->implicit_value("true")->value_name("BOOL"),
                          help.c_str());
    } else {
      group.add_options()(name.c_str(), po::value<std::string>()->value_name(unit), help.c_str());
    }
  }
}

void apply_engine_settings(const po::variables_map& vm, EngineConfig& config) {
  for (const Setting& s : settings()) {
    const std::string name(s.cli);
    if (!vm.count(name)) continue;
    if (s.type == SettingType::text_list) {
      for (const auto& v : vm[name].as<std::vector<std::string>>()) s.apply(config, v);
    } else {
      s.apply(config, vm[name].as<std::string>());
    }
  }
}

}  // namespace

Options parse(int argc, char** argv) {
  Options o;
  std::string format = "influx", signal = "none", config_file;

  po::options_description general("General");
  general.add_options()
      ("help,h", "show this help and exit")
      ("version", "show the version and exit")
      ("list-metrics", "print the metric catalogue (Markdown table) and exit")
      ("list-settings", "print every engine setting with its collectd key, as JSON (for tooling: man pages)")
      ("config", po::value(&config_file)->value_name("FILE"), "read options from FILE (key = value, same names as below)")
      ("format", po::value(&format)->default_value("influx"), "output: influx (line protocol), json, table");

  po::options_description capture("Capture");
  po::options_description analysis("Analysis");
  add_engine_settings(capture, analysis);

  po::options_description execd("Telegraf execd");
  execd.add_options()
      ("signal", po::value(&signal)->default_value("none"), "when to print: none (every --interval), STDIN, SIGHUP, SIGUSR1, SIGUSR2; given with --read, the file's counters are served like live ones")
      ("interval", po::value(&o.interval_s)->default_value(o.interval_s), "seconds between snapshots with --signal none")
      ("duration", po::value(&o.duration_s)->default_value(0.0), "live: stop after SECONDS (0 = run until stdin closes or SIGTERM)");

  po::options_description all;
  all.add(general).add(capture).add(analysis).add(execd);
  std::ostringstream help;
  help << "tcpanomaly: TCP health metrics from packet capture\n\n"
          "Usage: tcpanomaly --read FILE [--format json|influx|table] [options]\n"
          "       tcpanomaly --interface IF [--interface IF2 ...] [--signal MODE] [options]\n"
       << all;
  o.help_text = help.str();

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, all), vm);
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) throw std::runtime_error("--config: cannot read \"" + path + "\"");
      po::store(po::parse_config_file(in, all), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw std::runtime_error(e.what());
  }
  apply_engine_settings(vm, o.engine);
  o.serve_file = !o.engine.capture.read_file.empty() && !vm["signal"].defaulted();
  o.show_help = vm.count("help");
  o.show_version = vm.count("version");
  o.list_metrics = vm.count("list-metrics");
  o.list_settings = vm.count("list-settings");
  o.format = pick<Format>("format", format, {{"influx", Format::influx}, {"json", Format::json}, {"table", Format::table}});
  o.trigger = pick<Trigger>("signal", signal,
                            {{"none", Trigger::none}, {"STDIN", Trigger::stdin_line}, {"SIGHUP", Trigger::sighup},
                             {"SIGUSR1", Trigger::sigusr1}, {"SIGUSR2", Trigger::sigusr2}});
  if (!(o.interval_s > 0 && o.interval_s <= 86400))
    throw std::runtime_error("--interval: must be between 0 and 86400 seconds");
  if (!(o.duration_s >= 0 && o.duration_s <= 31536000))
    throw std::runtime_error("--duration: must be between 0 (no limit) and 31536000 seconds");
  return o;
}

}  // namespace tcpanomaly::cli
