#include "mailjournal/access.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace mailjournal {

namespace {

// The grants of the roles that apply to one caller: operation -> departments ("*": all).
class RoleGrants : public Permissions {
 public:
  void Grant(const std::string& op, const std::vector<std::string>& departments) {
    auto& granted = grants_[op];
    granted.insert(departments.begin(), departments.end());
  }
  bool Allows(const std::string& op, const std::string& department) const override {
    auto it = grants_.find(op);
    return it != grants_.end() && (it->second.count("*") > 0 || it->second.count(department) > 0);
  }
  bool AllowsSome(const std::string& op) const override {
    auto it = grants_.find(op);
    return it != grants_.end() && !it->second.empty();
  }
  bool AllowsAll(const std::string& op) const override {
    auto it = grants_.find(op);
    return it != grants_.end() && it->second.count("*") > 0;
  }

 private:
  std::map<std::string, std::set<std::string>> grants_;
};

std::string GroupName(gid_t gid) {
  struct group grp, *result = nullptr;
  std::vector<char> buf(16384);
  if (getgrgid_r(gid, &grp, buf.data(), buf.size(), &result) != 0 || result == nullptr) return "";
  return grp.gr_name;
}

bool Contains(const std::vector<std::string>& list, const std::string& name) {
  return !name.empty() && std::find(list.begin(), list.end(), name) != list.end();
}

}  // namespace

std::shared_ptr<const Permissions> PermissionsUnder(const Policy* policy, const Caller& caller,
                                                    uid_t owner) {
  if (caller.uid == 0 || caller.uid == owner) return AllPermissions();
  auto grants = std::make_shared<RoleGrants>();
  if (policy == nullptr) return grants;
  std::vector<std::string> groups;
  groups.push_back(GroupName(caller.gid));
  for (uint32_t g : caller.groups) groups.push_back(GroupName(g));
  for (const Role& role : policy->roles()) {
    bool applies = Contains(role.users, caller.user);
    for (const std::string& g : groups) applies = applies || Contains(role.groups, g);
    if (!applies) continue;
    for (Operation op : role.operations) grants->Grant(OperationName(op), role.departments);
  }
  return grants;
}

PermissionsSource RolePermissions(const PolicyHolder* holder, uid_t owner) {
  return [holder, owner](const Caller& caller) {
    std::shared_ptr<const Policy> policy = holder->Active();
    return PermissionsUnder(policy.get(), caller, owner);
  };
}

void LookUpUserName(Caller* caller) {
  struct passwd pw, *result = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(caller->uid, &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr) {
    caller->user = pw.pw_name;
  }
}

Caller ProcessCaller() {
  Caller caller;
  caller.uid = getuid();
  caller.gid = getgid();
  caller.pid = getpid();
  int n = getgroups(0, nullptr);
  if (n > 0) {
    std::vector<gid_t> groups(static_cast<size_t>(n));
    n = getgroups(n, groups.data());
    for (int i = 0; i < n; ++i) caller.groups.push_back(groups[static_cast<size_t>(i)]);
  }
  LookUpUserName(&caller);
  return caller;
}

}  // namespace mailjournal
