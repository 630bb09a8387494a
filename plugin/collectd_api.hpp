// The only place collectd's headers are included. They have no extern "C"
// guards, need HAVE_CONFIG_H, and define macros (ERROR, WARNING, INFO, ...)
// that clash with other code: include this header from plugin/ .cpp files
// only, never from another header or from the core.
#pragma once

extern "C" {
#include <collectd/core/daemon/collectd.h>
#include <collectd/core/daemon/plugin.h>
#include <collectd/core/utils/common/common.h>
}

// collectd's logging macros are varargs C; we log preformatted strings.
#define TCPANOMALY_LOG(level, text) plugin_log((level), "tcpanomaly plugin: %s", (text).c_str())
