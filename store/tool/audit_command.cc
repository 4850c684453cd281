// mailjournal audit: the audit trail (mailjournal-audit(8)).
#include "cli.h"
#include "commands.h"

namespace mailjournal {

int CmdAudit(Channel* channel, const AuditOptions& o) {
  nlohmann::json req = Request("audit");
  if (!o.since.empty()) req["since"] = o.since;
  if (!o.until.empty()) req["until"] = o.until;
  if (!o.user.empty()) req["user"] = o.user;
  if (!o.operation.empty()) req["operation"] = o.operation;
  if (o.seq != 0) req["seq"] = o.seq;
  req["reverse"] = o.reverse;
  return PrintEntries(channel, req, o.limit, o.format);
}

}  // namespace mailjournal
