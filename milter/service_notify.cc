#include "service_notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>

namespace mailjournal {

namespace {

// STATUS= ends at the first newline; a status is one line.
std::string StatusLine(const std::string& status) {
  return "STATUS=" + status.substr(0, status.find('\n'));
}

void Send(const std::string& state) {
  sd_notify(0, state.c_str());  // < 0: not sent, 0: no NOTIFY_SOCKET; either way, nothing to do
}

}  // namespace

void NotifyReady(const std::string& status) { Send("READY=1\n" + StatusLine(status)); }

void NotifyReloading(const std::string& status) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t usec = static_cast<uint64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  Send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\n" + StatusLine(status));
}

void NotifyStopping(const std::string& status) { Send("STOPPING=1\n" + StatusLine(status)); }

}  // namespace mailjournal
