// Tells the service manager that started mailjournald (systemd with Type=notify,
// contrib/systemd/mailjournald.service) how the daemon is doing, with sd_notify(3):
//
//   READY=1      once, when the milter socket and the admin socket listen, the journal is open
//                and the policy is loaded and journaled: mail can be journaled from now on;
//   RELOADING=1  when a reload of the policy begins (SIGUSR1, which ExecReload sends, or
//                "mailjournal policy reload"), with MONOTONIC_USEC (CLOCK_MONOTONIC, in
//                microseconds), which systemd 253 and later require and earlier ones ignore;
//                READY=1 again when it has ended, whether the new policy was taken or refused;
//   STOPPING=1   when a stop begins (libmilter has stopped accepting connections; the
//                in-flight commits are finished after it);
//   STATUS=TEXT  with each of them: one line for "systemctl status", e.g. "journaling,
//                last_seq 42" or why a reload was refused.
//
// Every function is a no-op when NOTIFY_SOCKET is not set (the daemon started from a shell,
// by the tests or by another init). A message that cannot be sent is ignored: the daemon never
// depends on being heard. NOTIFY_SOCKET is left in the environment, so the functions work
// after privileges are dropped (systemd's notify socket accepts every user).
//
// Thread-safety: every function may be called from any thread.
#ifndef MAILJOURNAL_MILTER_SERVICE_NOTIFY_H_
#define MAILJOURNAL_MILTER_SERVICE_NOTIFY_H_

#include <string>

namespace mailjournal {

void NotifyReady(const std::string& status);
void NotifyReloading(const std::string& status);
void NotifyStopping(const std::string& status);

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_SERVICE_NOTIFY_H_
