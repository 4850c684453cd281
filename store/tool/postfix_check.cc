#include "postfix_check.h"

#include <cctype>
#include <sstream>

namespace mailjournal {

namespace {

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

bool IsSeparator(char c) { return c == ',' || std::isspace(static_cast<unsigned char>(c)); }

// Whether a receive_override_options value contains no_milters.
bool DisablesMilters(const std::string& value) {
  for (const PostfixMilter& word : ParseMilterList(value)) {
    if (word.socket == "no_milters") return true;
  }
  return false;
}

// The checks of one milter list, as used with `default_action` (milter_default_action).
// `where` names where the list is set ("main.cf" or a service), `what` the mail it covers.
void CheckMilterList(const std::string& where, const char* parameter, const std::string& value,
                     const std::string& default_action, const std::string& queue_directory,
                     const std::string& journal, const char* what,
                     std::vector<std::string>* warnings) {
  std::vector<PostfixMilter> milters = ParseMilterList(value);
  size_t ours = milters.size();
  for (size_t i = 0; i < milters.size(); ++i) {
    if (NormalizePostfixMilter(milters[i].socket, queue_directory) == journal) ours = i;
  }
  std::string head = where + ": " + parameter + " = " + value + ": ";
  if (ours == milters.size()) {
    warnings->push_back(head + "the journal milter is missing: " + what + " is not journaled");
    return;
  }
  if (ours + 1 != milters.size()) {
    warnings->push_back(head + "the journal milter is not last (" + milters.back().socket +
                        " comes after it): a later milter can change the message, or reject "
                        "it, after it was journaled");
  }
  auto own = milters[ours].settings.find("default_action");
  const std::string& action = own != milters[ours].settings.end() ? own->second : default_action;
  if (action != "tempfail") {
    warnings->push_back(head + "the journal milter's default action is '" + action +
                        "', not tempfail: while mailjournald is down or failing, " + what +
                        " passes unjournaled");
  }
}

const std::string& Get(const std::map<std::string, std::string>& params, const std::string& name) {
  static const std::string empty;
  auto it = params.find(name);
  return it == params.end() ? empty : it->second;
}

// The checks of the parameters a service may override as well as main.cf: `params` are
// main.cf's or, for a service, the ones it overrides.
void CheckBypassParameters(const std::string& where,
                           const std::map<std::string, std::string>& params,
                           std::vector<std::string>* warnings) {
  const std::string& rec = Get(params, "receive_override_options");
  if (DisablesMilters(rec)) {
    warnings->push_back(where + ": receive_override_options = " + rec +
                        ": no_milters turns every milter off, the journal's too");
  }
  const std::string& filter = Get(params, "content_filter");
  if (!filter.empty()) {
    warnings->push_back(where + ": content_filter = " + filter +
                        ": the filter gets the mail after the journal milter and can change it "
                        "before delivery, and mail it re-injects is journaled only if the "
                        "re-injection service runs the journal milter (mailjournal(8), "
                        "CHECK-POSTFIX)");
  }
  const std::string& maps = Get(params, "smtpd_milter_maps");
  if (!maps.empty()) {
    warnings->push_back(where + ": smtpd_milter_maps = " + maps +
                        ": the clients it matches get its milter list instead (DISABLE: none); "
                        "each result must end with the journal milter");
  }
}

}  // namespace

void ParsePostconfParameters(const std::string& text, std::map<std::string, std::string>* params) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find(" = ");
    if (eq == std::string::npos) {
      // "name =" for an empty value
      if (line.size() > 2 && line.compare(line.size() - 2, 2, " =") == 0) {
        (*params)[Trim(line.substr(0, line.size() - 2))] = "";
      }
      continue;
    }
    (*params)[Trim(line.substr(0, eq))] = Trim(line.substr(eq + 3));
  }
}

void ParseMasterServices(const std::string& services_text, const std::string& overrides_text,
                         std::vector<PostfixService>* services) {
  std::istringstream in(services_text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    PostfixService service;
    std::string skip;
    if (!(fields >> service.name >> service.type >> skip >> skip >> skip >> skip >> skip >>
          service.command)) {
      continue;
    }
    services->push_back(service);
  }
  std::map<std::string, std::string> overrides;
  ParsePostconfParameters(overrides_text, &overrides);
  for (const auto& [key, value] : overrides) {
    size_t last = key.rfind('/');
    if (last == std::string::npos) continue;
    std::string label = key.substr(0, last);
    for (PostfixService& service : *services) {
      if (service.Label() == label) service.overrides[key.substr(last + 1)] = value;
    }
  }
}

std::vector<PostfixMilter> ParseMilterList(const std::string& value) {
  std::vector<PostfixMilter> milters;
  size_t i = 0;
  while (i < value.size()) {
    if (IsSeparator(value[i])) {
      ++i;
    } else if (value[i] == '{') {
      size_t close = value.find('}', i);
      if (close == std::string::npos) close = value.size();
      std::string inner = value.substr(i + 1, close - i - 1);
      PostfixMilter milter;
      std::istringstream parts(inner);
      std::string part;
      bool first = true;
      while (std::getline(parts, part, ',')) {
        part = Trim(part);
        if (first) {
          milter.socket = part;
          first = false;
          continue;
        }
        size_t eq = part.find('=');
        if (eq != std::string::npos)
          milter.settings[Trim(part.substr(0, eq))] = Trim(part.substr(eq + 1));
      }
      milters.push_back(milter);
      i = close + 1;
    } else {
      size_t end = i;
      while (end < value.size() && !IsSeparator(value[end])) ++end;
      milters.push_back(PostfixMilter{value.substr(i, end - i), {}});
      i = end;
    }
  }
  return milters;
}

std::string NormalizePostfixMilter(const std::string& socket, const std::string& queue_directory) {
  if (socket.compare(0, 5, "unix:") == 0) {
    std::string path = socket.substr(5);
    if (path.empty() || path[0] != '/') path = queue_directory + "/" + path;
    return "unix:" + path;
  }
  if (socket.compare(0, 5, "inet:") == 0) {
    std::string rest = socket.substr(5);
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos) return socket;
    std::string host = rest.substr(0, colon);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    return "inet:" + host + ":" + rest.substr(colon + 1);
  }
  return socket;
}

std::string NormalizeDaemonMilter(const std::string& spec) {
  for (const char* prefix : {"unix:", "local:"}) {
    std::string p(prefix);
    if (spec.compare(0, p.size(), p) == 0) {
      std::string path = spec.substr(p.size());
      return path.empty() || path[0] != '/' ? "" : "unix:" + path;
    }
  }
  for (const char* prefix : {"inet:", "inet6:"}) {
    std::string p(prefix);
    if (spec.compare(0, p.size(), p) == 0) {
      std::string rest = spec.substr(p.size());
      size_t at = rest.find('@');
      if (at == std::string::npos) return "";  // any address: cannot be compared
      std::string host = rest.substr(at + 1);
      if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      return "inet:" + host + ":" + rest.substr(0, at);
    }
  }
  return "";
}

std::vector<std::string> FindJournalBypasses(const PostfixSettings& settings,
                                             const std::string& journal,
                                             std::vector<std::string>* notes) {
  std::vector<std::string> warnings;
  const auto& main = settings.main;
  const std::string& queue_directory = Get(main, "queue_directory");
  const char* kSmtpMail = "mail received by smtpd(8)";
  const char* kOtherMail = "mail submitted with sendmail(1) or received by qmqpd(8)";
  CheckMilterList("main.cf", "smtpd_milters", Get(main, "smtpd_milters"),
                  Get(main, "milter_default_action"), queue_directory, journal, kSmtpMail,
                  &warnings);
  CheckMilterList("main.cf", "non_smtpd_milters", Get(main, "non_smtpd_milters"),
                  Get(main, "milter_default_action"), queue_directory, journal, kOtherMail,
                  &warnings);
  CheckBypassParameters("main.cf", main, &warnings);
  for (const PostfixService& service : settings.services) {
    if (service.overrides.empty()) continue;
    std::string where = "master.cf service " + service.Label();
    std::map<std::string, std::string> effective = main;
    for (const auto& [name, value] : service.overrides) effective[name] = value;
    bool action_changed = service.overrides.count("milter_default_action") > 0;
    // A service's own list is checked when it or the default action is overridden; a list
    // of the other kind only when overridden.
    bool smtpd = service.command == "smtpd";
    if (service.overrides.count("smtpd_milters") > 0 || (smtpd && action_changed)) {
      CheckMilterList(where, "smtpd_milters", effective["smtpd_milters"],
                      effective["milter_default_action"], queue_directory, journal, kSmtpMail,
                      &warnings);
    }
    if (service.overrides.count("non_smtpd_milters") > 0 || (!smtpd && action_changed)) {
      CheckMilterList(where, "non_smtpd_milters", effective["non_smtpd_milters"],
                      effective["milter_default_action"], queue_directory, journal, kOtherMail,
                      &warnings);
    }
    CheckBypassParameters(where, service.overrides, &warnings);
  }
  if (notes != nullptr) {
    const std::string& classes = Get(main, "internal_mail_filter_classes");
    if (classes.find("bounce") == std::string::npos ||
        classes.find("notify") == std::string::npos) {
      notes->push_back("main.cf: internal_mail_filter_classes = " + classes +
                       ": bounces and notifications that Postfix makes itself are not journaled "
                       "(mailjournald(8), POSTFIX)");
    }
  }
  return warnings;
}

}  // namespace mailjournal
