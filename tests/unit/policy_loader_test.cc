// The policy loader: every invalid policy is reported with its exact message and position,
// every problem at once; valid policies yield exactly the values they spell out.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "mailjournal/policy.h"
#include "mailjournal/seal.h"
#include "mailjournal/sha256.h"
#include "mailjournal/time_util.h"
#include "test_util.h"

namespace mailjournal {
namespace {

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  BOOST_REQUIRE(out.good());
}

// The key files every in-memory policy can name.
std::vector<PolicyFile> KeyFiles() {
  return {
      {"keys/retail.pem", ReadCaseFile("keys/retail.pem")},
      {"keys/brokerage.pem", ReadCaseFile("keys/brokerage.pem")},
      {"keys/insurance.pem", ReadCaseFile("keys/insurance.pem")},
      {"keys/escrow.pem", ReadCaseFile("keys/escrow.pem")},
      {"keys/junk.pem", "this is not PEM\n"},
      {"keys/private.pem", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"},
  };
}

struct Loaded {
  bool ok = false;
  std::shared_ptr<const Policy> policy;
  std::vector<std::string> errors;
};

// Loads `yaml` as "policy.yaml" next to the key files and `extra` files.
Loaded Load(const std::string& yaml, std::vector<PolicyFile> extra = {}) {
  std::vector<PolicyFile> files = KeyFiles();
  files.push_back({"policy.yaml", yaml});
  for (PolicyFile& f : extra) files.push_back(std::move(f));
  Loaded loaded;
  std::vector<PolicyError> errors;
  loaded.ok = LoadPolicy("policy.yaml", MemoryFileReader(files), &loaded.policy, &errors);
  for (const PolicyError& e : errors) loaded.errors.push_back(e.ToString());
  BOOST_TEST(loaded.ok == errors.empty());
  BOOST_TEST((loaded.policy != nullptr) == loaded.ok);
  return loaded;
}

// Seven lines: the smallest valid policy (departments need no keys: there is an escrow key).
// Cases append from line 8.
const std::string kMinimal =
    "version: 1\n"
    "retention:\n"
    "  r7: 7y\n"
    "escrow: [keys/insurance.pem]\n"
    "departments:\n"
    "  - name: default\n"
    "    retention: r7\n";

struct InvalidCase {
  InvalidCase(const char* n, std::string y, std::vector<std::string> e,
              std::vector<PolicyFile> x = {})
      : name(n), yaml(std::move(y)), errors(std::move(e)), extra(std::move(x)) {}
  const char* name;
  std::string yaml;
  std::vector<std::string> errors;
  std::vector<PolicyFile> extra;
};

const char kNameHint[] =
    "(expected lower-case letters, digits, '_', '.' and '-', starting with a letter or digit)";
const char kDefaultMembers[] =
    "the default department takes no members (it gets every address no rule matches)";

std::vector<InvalidCase> InvalidCases() {
  return {
      // The document and its top level.
      {"empty file",
       "",
       {"policy.yaml:1:1: the policy is empty (expected a map starting with "
        "'version: 1')"}},
      {"comments only",
       "# nothing here\n",
       {"policy.yaml:1:1: the policy is empty (expected a "
        "map starting with 'version: 1')"}},
      {"top level is a list",
       "- version: 1\n",
       {"policy.yaml:1:1: the policy must be a map, not a list"}},
      {"top level is a string",
       "hello\n",
       {"policy.yaml:1:1: the policy must be a map, not 'hello'"}},
      {"syntax error: unclosed flow sequence",
       "version: 1\nretention: [7y\n",
       {"policy.yaml:3:1: YAML syntax error: end of sequence flow not found"}},
      {"syntax error: bad indentation",
       "version: 1\nretention:\n  r7: 7y\n r5: 5y\n",
       {"policy.yaml:4:2: YAML syntax error: end of map not found"}},
      {"syntax error: map value in plain scalar",
       "version: 1\nretention: a: b\n",
       {"policy.yaml:2:13: YAML syntax error: illegal map value"}},
      {"stray comma (yaml-cpp would loop)",
       "# policy\n  , version: 1\n",
       {"policy.yaml:2:3: YAML syntax error: unexpected ','"}},
      {"stray comma alone", ",", {"policy.yaml:1:1: YAML syntax error: unexpected ','"}},
      {"two documents",
       kMinimal + "---\nversion: 1\n",
       {"policy.yaml:8:1: a policy is one YAML document; another one starts here"}},
      {"aliases",
       kMinimal + "  - name: retail\n"
                  "    keys: &k [keys/retail.pem]\n"
                  "    retention: r7\n"
                  "  - name: brokerage\n"
                  "    keys: *k\n"
                  "    retention: r7\n",
       {"policy.yaml:12:11: YAML aliases are not allowed in a policy (write the value out)"}},
      {"missing version",
       "retention:\n  r7: 7y\ndepartments:\n  - name: default\n"
       "    retention: r7\nescrow: [keys/insurance.pem]\n",
       {"policy.yaml:1:1: missing required key 'version'"}},
      {"version is a string",
       "version: \"1\"" + kMinimal.substr(10),
       {"policy.yaml:1:10: 'version' must be an integer, not the string '1'"}},
      {"version is not an integer",
       "version: 1.0" + kMinimal.substr(10),
       {"policy.yaml:1:10: 'version' must be an integer, not '1.0'"}},
      {"unsupported version: nothing else is reported",
       "version: 2\ncolour: blue\n",
       {"policy.yaml:1:10: unsupported version 2 (this mailjournal reads version 1)"}},
      {"unknown top-level key",
       kMinimal + "retension:\n  r5: 5y\n",
       {"policy.yaml:8:1: unknown key 'retension' (expected one of: version, options, "
        "retention, departments, escrow, holds, access, supervision, capture)"}},
      {"duplicate top-level key",
       kMinimal + "version: 1\n",
       {"policy.yaml:8:1: duplicate key 'version' (first at 1:1)"}},
      {"non-string key",
       kMinimal + "? [a, b]\n: c\n",
       {"policy.yaml:8:3: a key must be a string, not a list"}},
      {"missing retention and departments",
       "version: 1\n",
       {"policy.yaml:1:1: missing required key 'retention'",
        "policy.yaml:1:1: missing required key 'departments'"}},

      // options
      {"options is a list",
       "version: 1\noptions: [strip_subaddress]\n" + kMinimal.substr(11),
       {"policy.yaml:2:10: 'options' must be a map, not a list"}},
      {"unknown option",
       kMinimal + "options:\n  strip_subaddresses: true\n",
       {"policy.yaml:9:3: unknown key 'strip_subaddresses' (expected one of: "
        "case_sensitive_local_part, strip_subaddress, subaddress_separator)"}},
      {"option is not a boolean",
       kMinimal + "options:\n  case_sensitive_local_part: yes\n",
       {"policy.yaml:9:30: 'case_sensitive_local_part' must be true or false, not 'yes'"}},
      {"quoted boolean",
       kMinimal + "options:\n  strip_subaddress: \"true\"\n",
       {"policy.yaml:9:21: 'strip_subaddress' must be true or false, not the string 'true'"}},
      {"separator of two characters",
       kMinimal + "options:\n  subaddress_separator: \"++\"\n",
       {"policy.yaml:9:25: 'subaddress_separator' must be one character other than '@' and "
        "whitespace, not the string '++'"}},
      {"separator '@'",
       kMinimal + "options:\n  subaddress_separator: \"@\"\n",
       {"policy.yaml:9:25: 'subaddress_separator' must be one character other than '@' and "
        "whitespace, not the string '@'"}},
      {"separator a space",
       kMinimal + "options:\n  subaddress_separator: \" \"\n",
       {"policy.yaml:9:25: 'subaddress_separator' must be one character other than '@' and "
        "whitespace, not the string ' '"}},

      // retention
      {"retention is a list",
       "version: 1\nretention: [7y]\ndepartments: []\n",
       {"policy.yaml:2:12: 'retention' must be a map, not a list",
        "policy.yaml:3:14: missing the required department 'default' (it gets every address no "
        "rule matches)"}},
      {"retention is empty",
       "version: 1\nretention:\ndepartments:\n  - name: default\n"
       "    retention: r7\nescrow: [keys/insurance.pem]\n",
       {"policy.yaml:2:1: 'retention' must be a map, not empty"}},
      {"retention names no class",
       "version: 1\nretention: {}\ndepartments:\n"
       "  - name: default\n    retention: r7\nescrow: [keys/insurance.pem]\n",
       {"policy.yaml:2:12: 'retention' must name at least one class",
        "policy.yaml:5:16: unknown retention class 'r7'"}},
      {"period in months",
       "version: 1\nretention:\n  r7: 7m\n" + kMinimal.substr(31),
       {"policy.yaml:3:7: invalid retention period '7m' (expected a positive number of years or "
        "days, e.g. 7y or 180d)"}},
      {"period of zero",
       "version: 1\nretention:\n  r7: 0d\n" + kMinimal.substr(31),
       {"policy.yaml:3:7: invalid retention period '0d' (expected a positive number of years or "
        "days, e.g. 7y or 180d)"}},
      {"period without number",
       "version: 1\nretention:\n  r7: y\n" + kMinimal.substr(31),
       {"policy.yaml:3:7: invalid retention period 'y' (expected a positive number of years or "
        "days, e.g. 7y or 180d)"}},
      {"period as a bare number",
       "version: 1\nretention:\n  r7: 7\n" + kMinimal.substr(31),
       {"policy.yaml:3:7: invalid retention period '7' (expected a positive number of years or "
        "days, e.g. 7y or 180d)"}},
      {"period too long",
       "version: 1\nretention:\n  r7: 1001y\n" + kMinimal.substr(31),
       {"policy.yaml:3:7: retention period '1001y' is too long (at most 1000y or 365000d)"}},
      {"period overflowing",
       "version: 1\nretention:\n  r7: 99999999999999999999999d\n" + kMinimal.substr(31),
       {"policy.yaml:3:7: invalid retention period '99999999999999999999999d' (expected a "
        "positive number of years or days, e.g. 7y or 180d)"}},
      {"period is a list",
       "version: 1\nretention:\n  r7: [7y]\n" + kMinimal.substr(31),
       {"policy.yaml:3:7: the period of 'r7' must be a string such as 7y or 180d, not a list"}},
      {"period missing",
       "version: 1\nretention:\n  r7:\n" + kMinimal.substr(31),
       {"policy.yaml:3:3: the period of 'r7' must be a string such as 7y or 180d, not empty"}},
      {"invalid class name",
       kMinimal.substr(0, 31) + "  Retail 5Y: 5y\n" + kMinimal.substr(31),
       {"policy.yaml:4:3: invalid retention class name 'Retail 5Y' " + std::string(kNameHint)}},
      {"duplicate class",
       kMinimal.substr(0, 31) + "  r7: 7d\n" + kMinimal.substr(31),
       {"policy.yaml:4:3: duplicate retention class 'r7' (first at 3:3)"}},

      // departments
      {"departments is a map",
       "version: 1\nretention:\n  r7: 7y\ndepartments:\n  default: r7\n",
       {"policy.yaml:5:3: 'departments' must be a list, not a map"}},
      {"no default department",
       "version: 1\nretention:\n  r7: 7y\ndepartments:\n"
       "  - name: retail\n    retention: r7\nescrow: [keys/insurance.pem]\n",
       {"policy.yaml:5:3: missing the required department 'default' (it gets every address no "
        "rule matches)"}},
      {"department is a string",
       kMinimal + "  - retail\n",
       {"policy.yaml:8:5: a department must be a map, not 'retail'"}},
      {"department without name",
       kMinimal + "  - retention: r7\n",
       {"policy.yaml:8:5: missing required key 'name'"}},
      {"department name with capitals",
       kMinimal + "  - name: Retail\n    retention: r7\n",
       {"policy.yaml:8:11: invalid department name 'Retail' " + std::string(kNameHint)}},
      {"department name is a list",
       kMinimal + "  - name: [retail]\n    retention: r7\n",
       {"policy.yaml:8:11: 'name' must be a string, not a list"}},
      {"duplicate department",
       kMinimal + "  - name: default\n    retention: r7\n",
       {"policy.yaml:8:11: duplicate department 'default' (first at 6:11)"}},
      {"department without retention",
       kMinimal + "  - name: retail\n",
       {"policy.yaml:8:5: missing required key 'retention'"}},
      {"unknown retention class",
       kMinimal + "  - name: retail\n    retention: r5\n",
       {"policy.yaml:9:16: unknown retention class 'r5'"}},
      {"misspelt department key",
       kMinimal + "  - name: retail\n    retension: r7\n",
       {"policy.yaml:8:5: missing required key 'retention'",
        "policy.yaml:9:5: unknown key 'retension' (expected one of: name, members, retention, "
        "keys, index)"}},
      {"index is not a boolean",
       kMinimal + "  - name: retail\n    retention: r7\n    index: on\n",
       {"policy.yaml:10:12: 'index' must be true or false, not 'on'"}},
      {"default department with members",
       "version: 1\nretention:\n  r7: 7y\ndepartments:\n  - name: default\n"
       "    members: [\"@bank.example\"]\n    retention: r7\nescrow: [keys/insurance.pem]\n",
       {"policy.yaml:6:5: " + std::string(kDefaultMembers)}},
      {"departments without keys and no escrow",
       "version: 1\nretention:\n  r7: 7y\ndepartments:\n"
       "  - name: retail\n    members: [\"@r.example\"]\n    retention: r7\n"
       "  - name: default\n    retention: r7\n",
       {"policy.yaml:5:5: department 'retail' has no keys and the policy names no escrow key: "
        "its mail could not be sealed (give it 'keys' or add 'escrow')",
        "policy.yaml:8:5: department 'default' has no keys and the policy names no escrow key: "
        "its mail could not be sealed (give it 'keys' or add 'escrow')"}},
      {"empty key list",
       kMinimal + "  - name: retail\n    retention: r7\n    keys: []\n",
       {"policy.yaml:10:11: 'keys' must not be empty"}},
      {"unreadable escrow key",
       "version: 1\nretention:\n  r7: 7y\nescrow: [keys/none.pem, keys/private.pem]\n"
       "departments:\n  - name: default\n    retention: r7\n",
       {"policy.yaml:4:10: cannot read key file 'keys/none.pem': No such file or directory",
        "policy.yaml:4:25: key file 'keys/private.pem' holds a private key (give only the "
        "certificate or public key)"}},
      {"escrow is not a list",
       "version: 1\nretention:\n  r7: 7y\nescrow: keys/escrow.pem\n"
       "departments:\n  - name: default\n    retention: r7\n",
       {"policy.yaml:4:9: 'escrow' must be a list, not 'keys/escrow.pem'"}},

      // members
      {"members is a string",
       kMinimal + "  - name: retail\n    members: \"@bank.example\"\n"
                  "    retention: r7\n",
       {"policy.yaml:9:14: 'members' must be a list, not the string '@bank.example'"}},
      {"member is a list",
       kMinimal + "  - name: retail\n    members: [[a@b.example]]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: a member must be a string or {include: FILE}, not a list"}},
      {"address without '@'",
       kMinimal + "  - name: retail\n    members: [alice]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: invalid member 'alice': expected exactly one '@'"}},
      {"address with two '@'",
       kMinimal + "  - name: retail\n    members: [a@b@bank.example]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: invalid member 'a@b@bank.example': expected exactly one '@'"}},
      {"empty domain",
       kMinimal + "  - name: retail\n    members: [\"alice@\", \"@\"]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: invalid member 'alice@': empty domain",
        "policy.yaml:9:25: invalid member '@': empty domain"}},
      {"empty member",
       kMinimal + "  - name: retail\n    members: [\"\", \"<>\"]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: invalid member '': empty address",
        "policy.yaml:9:19: invalid member '<>': empty address"}},
      {"invalid character in domain",
       kMinimal + "  - name: retail\n"
                  "    members: [a@bank_example.com]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: invalid member 'a@bank_example.com': invalid character '_' in "
        "domain"}},
      {"empty domain label",
       kMinimal + "  - name: retail\n"
                  "    members: [a@bank..example, \"@.bank.example\"]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: invalid member 'a@bank..example': empty label in domain "
        "'bank..example'",
        "policy.yaml:9:32: invalid member '@.bank.example': empty label in domain "
        "'.bank.example'"}},
      {"invalid character in local part",
       kMinimal + "  - name: retail\n"
                  "    members: [\"a b@bank.example\", "
                  "\"a\\tb@bank.example\"]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: invalid member 'a b@bank.example': invalid character ' ' in local part",
        "policy.yaml:9:35: invalid member 'a\\x09b@bank.example': invalid character '\\x09' in "
        "local part"}},
      {"wildcard in the middle of a domain",
       kMinimal + "  - name: retail\n"
                  "    members: [\"@bank.*.example\"]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: invalid member '@bank.*.example': invalid character '*' in domain"}},
      {"unterminated glob bracket",
       kMinimal + "  - name: retail\n"
                  "    members: [\"[a-z*@bank.example\"]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: invalid member '[a-z*@bank.example': unterminated '[' in glob"}},
      {"glob without '@'",
       kMinimal + "  - name: retail\n    members: [\"*-desk\"]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: invalid member '*-desk': expected exactly one '@'"}},
      {"glob with empty domain",
       kMinimal + "  - name: retail\n    members: [\"*@\"]\n"
                  "    retention: r7\n",
       {"policy.yaml:9:15: invalid member '*@': empty domain"}},
      {"same member in two departments",
       kMinimal + "  - name: retail\n"
                  "    members: [alice@bank.example]\n"
                  "    retention: r7\n"
                  "  - name: brokerage\n"
                  "    members:\n"
                  "      - ALICE@bank.example\n"
                  "    retention: r7\n",
       {"policy.yaml:13:9: alice@bank.example is a member of both retail and brokerage (first "
        "at policy.yaml:9:15)"}},
      {"same domain twice in one department",
       kMinimal + "  - name: retail\n"
                  "    members:\n"
                  "      - \"@Retail.Bank.Example\"\n"
                  "      - \"@retail.bank.example\"\n"
                  "    retention: r7\n",
       {"policy.yaml:11:9: @retail.bank.example is listed twice in retail (first at "
        "policy.yaml:10:9)"}},
      {"sub-addresses collide when stripped",
       "version: 1\noptions:\n  strip_subaddress: true\n" + kMinimal.substr(11) +
           "  - name: retail\n"
           "    members: [bob+retail@bank.example]\n"
           "    retention: r7\n"
           "  - name: brokerage\n"
           "    members: [bob+trades@bank.example]\n"
           "    retention: r7\n",
       {"policy.yaml:14:15: bob@bank.example is a member of both retail and brokerage (first at "
        "policy.yaml:11:15)"}},

      // include files
      {"include map with another key",
       kMinimal + "  - name: retail\n"
                  "    members:\n"
                  "      - file: hr/retail.txt\n"
                  "    retention: r7\n",
       {"policy.yaml:10:9: unknown key 'file' (expected one of: include)",
        "policy.yaml:10:9: missing required key 'include'"}},
      {"include of a missing file",
       kMinimal + "  - name: retail\n"
                  "    members:\n"
                  "      - include: hr/none.txt\n"
                  "    retention: r7\n",
       {"policy.yaml:10:18: cannot read include file 'hr/none.txt': No such file or directory"}},
      {"include of an empty path",
       kMinimal + "  - name: retail\n"
                  "    members:\n"
                  "      - include: \"\"\n"
                  "    retention: r7\n",
       {"policy.yaml:10:18: 'include' must not be empty"}},
      {"include twice in one department",
       kMinimal + "  - name: retail\n"
                  "    members:\n"
                  "      - include: hr/r.txt\n"
                  "      - include: hr/r.txt\n"
                  "    retention: r7\n",
       {"policy.yaml:11:18: 'hr/r.txt' is included twice in retail (first at 10:18)"},
       {{"hr/r.txt", "a@bank.example\n"}}},
      {"bad lines in an include file",
       kMinimal + "  - name: retail\n"
                  "    members:\n"
                  "      - include: hr/bad.txt\n"
                  "    retention: r7\n",
       {"hr/bad.txt:2:3: invalid address 'bob': expected exactly one '@'",
        "hr/bad.txt:4:1: invalid address '@bank.example': expected an address, not a domain",
        "hr/bad.txt:5:2: invalid address '*-desk@bank.example': expected an address, not a glob"},
       {{"hr/bad.txt",
         "alice@bank.example\n  bob\n# carol@bank.example\n@bank.example\n\t*-desk@bank.example"
         "\r\n\n"}}},
      {"include file member also in another department",
       kMinimal + "  - name: retail\n"
                  "    members:\n"
                  "      - include: hr/retail.txt\n"
                  "    retention: r7\n"
                  "  - name: brokerage\n"
                  "    members: [\"<Dave@BANK.example>\"]\n"
                  "    retention: r7\n",
       {"policy.yaml:13:15: dave@bank.example is a member of both retail and brokerage (first "
        "at hr/retail.txt:2:1)"},
       {{"hr/retail.txt", "carol@bank.example\nDAVE@bank.example\n"}}},

      // keys
      {"key file missing",
       kMinimal + "  - name: retail\n    retention: r7\n"
                  "    keys: [keys/none.pem]\n",
       {"policy.yaml:10:12: cannot read key file 'keys/none.pem': No such file or directory"}},
      {"key file is not PEM",
       kMinimal + "  - name: retail\n    retention: r7\n"
                  "    keys: [keys/junk.pem]\n",
       {"policy.yaml:10:12: key file 'keys/junk.pem' holds no PEM certificate (a bare public key "
        "cannot name a CMS recipient; make one with mailjournal keygen)"}},
      {"key file holds a private key",
       kMinimal + "  - name: retail\n    retention: r7\n"
                  "    keys: [keys/private.pem]\n",
       {"policy.yaml:10:12: key file 'keys/private.pem' holds a private key (give only the "
        "certificate or public key)"}},
      {"key file listed twice",
       kMinimal + "  - name: retail\n    retention: r7\n"
                  "    keys: [keys/retail.pem, keys/retail.pem]\n",
       {"policy.yaml:10:29: 'keys/retail.pem' is listed twice (first at 10:12)"}},
      {"keys is a string",
       kMinimal + "  - name: retail\n    retention: r7\n"
                  "    keys: keys/retail.pem\n",
       {"policy.yaml:10:11: 'keys' must be a list, not 'keys/retail.pem'"}},
      {"key entry is a map",
       kMinimal + "  - name: retail\n    retention: r7\n"
                  "    keys: [{file: keys/retail.pem}]\n",
       {"policy.yaml:10:12: each entry of 'keys' must be a string, not a map"}},

      // holds
      {"holds is a map",
       kMinimal + "holds:\n  case: X\n",
       {"policy.yaml:9:3: 'holds' must be a list, not a map"}},
      {"hold missing every key",
       kMinimal + "holds:\n  - {}\n",
       {"policy.yaml:9:5: missing required key 'case'",
        "policy.yaml:9:5: missing required key 'reason'",
        "policy.yaml:9:5: missing required key 'placed_by'",
        "policy.yaml:9:5: missing required key 'scope'"}},
      {"hold with empty reason and unknown key",
       kMinimal + "holds:\n"
                  "  - case: C-1\n"
                  "    reason: \"\"\n"
                  "    placed_by: jane\n"
                  "    scope: {since: 2026-01-01}\n"
                  "    expires: 2027-01-01\n",
       {"policy.yaml:10:13: 'reason' must not be empty",
        "policy.yaml:13:5: unknown key 'expires' (expected one of: case, reason, placed_by, "
        "scope)"}},
      {"duplicate hold case",
       kMinimal + "holds:\n"
                  "  - {case: C-1, reason: r, placed_by: jane, scope: {seqs: [1]}}\n"
                  "  - {case: C-1, reason: r, placed_by: jane, scope: {seqs: [2]}}\n",
       {"policy.yaml:10:12: duplicate hold case 'C-1' (first at 9:12)"}},
      {"hold scope with no criterion",
       kMinimal + "holds:\n  - {case: C-1, reason: r, placed_by: jane, scope: {}}\n",
       {"policy.yaml:9:52: 'scope' names no criterion (expected at least one of: departments, "
        "addresses, since, until, seqs)"}},
      {"hold scope with unknown key",
       kMinimal + "holds:\n  - {case: C-1, reason: r, placed_by: jane, scope: {dept: [x]}}\n",
       {"policy.yaml:9:52: 'scope' names no criterion (expected at least one of: departments, "
        "addresses, since, until, seqs)",
        "policy.yaml:9:53: unknown key 'dept' (expected one of: departments, addresses, since, "
        "until, seqs)"}},
      {"hold on an unknown department",
       kMinimal + "holds:\n"
                  "  - case: C-1\n"
                  "    reason: r\n"
                  "    placed_by: jane\n"
                  "    scope:\n"
                  "      departments: [default, legal]\n",
       {"policy.yaml:13:30: unknown department 'legal'"}},
      {"hold on an empty department list",
       kMinimal + "holds:\n  - {case: C-1, reason: r, placed_by: jane, scope: {departments: []}}\n",
       {"policy.yaml:9:66: 'departments' must not be empty"}},
      {"hold on a domain instead of an address",
       kMinimal + "holds:\n"
                  "  - case: C-1\n"
                  "    reason: r\n"
                  "    placed_by: jane\n"
                  "    scope:\n"
                  "      addresses: [\"@bank.example\", bob@bank.example, BOB@bank.example]\n",
       {"policy.yaml:13:19: invalid address '@bank.example': expected an address, not a domain",
        "policy.yaml:13:54: 'BOB@bank.example' is listed twice (first at 13:36)"}},
      {"hold with an invalid date",
       kMinimal + "holds:\n"
                  "  - case: C-1\n"
                  "    reason: r\n"
                  "    placed_by: jane\n"
                  "    scope:\n"
                  "      since: 2026-13-01\n"
                  "      until: next week\n",
       {"policy.yaml:13:14: invalid 'since' time '2026-13-01' (expected ISO 8601, e.g. "
        "2026-11-27 or 2026-11-27T10:00:00Z)",
        "policy.yaml:14:14: invalid 'until' time 'next week' (expected ISO 8601, e.g. 2026-11-27 "
        "or 2026-11-27T10:00:00Z)"}},
      {"hold ending before it starts",
       kMinimal + "holds:\n"
                  "  - case: C-1\n"
                  "    reason: r\n"
                  "    placed_by: jane\n"
                  "    scope:\n"
                  "      since: 2026-07-01\n"
                  "      until: 2026-07-01\n",
       {"policy.yaml:14:14: 'until' must be later than 'since'"}},
      {"hold with bad sequence ranges",
       kMinimal + "holds:\n"
                  "  - case: C-1\n"
                  "    reason: r\n"
                  "    placed_by: jane\n"
                  "    scope:\n"
                  "      seqs: [0, \"200-100\", x, 1-2-3, -5, [1, 2], 18446744073709551616]\n",
       {"policy.yaml:13:14: invalid sequence range '0' (expected N or N-M with 1 <= N <= M)",
        "policy.yaml:13:17: invalid sequence range '200-100' (expected N or N-M with 1 <= N <= "
        "M)",
        "policy.yaml:13:28: invalid sequence range 'x' (expected N or N-M with 1 <= N <= M)",
        "policy.yaml:13:31: invalid sequence range '1-2-3' (expected N or N-M with 1 <= N <= M)",
        "policy.yaml:13:38: invalid sequence range '-5' (expected N or N-M with 1 <= N <= M)",
        "policy.yaml:13:42: each entry of 'seqs' must be a number or a range N-M, not a list",
        "policy.yaml:13:50: invalid sequence range '18446744073709551616' (expected N or N-M "
        "with 1 <= N <= M)"}},

      // access
      {"access is a map",
       kMinimal + "access:\n  role: x\n",
       {"policy.yaml:9:3: 'access' must be a list, not a map"}},
      {"role without users or groups",
       kMinimal + "access:\n  - {role: auditors, departments: [\"*\"], operations: [verify]}\n",
       {"policy.yaml:9:5: a role must name at least one user or group ('users', 'groups')"}},
      {"role with an unknown operation",
       kMinimal + "access:\n"
                  "  - role: auditors\n"
                  "    users: [ann]\n"
                  "    departments: [\"*\"]\n"
                  "    operations: [verify, delete, verify]\n",
       {"policy.yaml:12:26: unknown operation 'delete' (expected one of: search, read, export, "
        "hold, purge, verify, audit, policy, review)",
        "policy.yaml:12:34: 'verify' is listed twice (first at 12:18)"}},
      {"duplicate role",
       kMinimal + "access:\n"
                  "  - {role: a, users: [ann], departments: [default], operations: [read]}\n"
                  "  - {role: a, users: [bob], departments: [default], operations: [read]}\n",
       {"policy.yaml:10:12: duplicate role 'a' (first at 9:12)"}},
      {"role name with a blank",
       kMinimal + "access:\n  - {role: a b, users: [ann], departments: [\"*\"], "
                  "operations: [read]}\n",
       {"policy.yaml:9:12: invalid role name 'a b' " + std::string(kNameHint)}},
      {"role with all departments and one more",
       kMinimal + "access:\n"
                  "  - role: a\n"
                  "    groups: [staff]\n"
                  "    departments: [\"*\", default, legal]\n"
                  "    operations: [read]\n",
       {"policy.yaml:11:19: '*' (all departments) must be the only entry of 'departments'",
        "policy.yaml:11:33: unknown department 'legal'"}},
      {"role missing departments and operations",
       kMinimal + "access:\n  - role: a\n    users: [\"jane doe\", \"\"]\n",
       {"policy.yaml:9:5: missing required key 'departments'",
        "policy.yaml:9:5: missing required key 'operations'",
        "policy.yaml:10:13: invalid user name 'jane doe'",
        "policy.yaml:10:25: empty entry in 'users'"}},
      // Supervision (line 8: "supervision:").
      {"supervision is a list",
       kMinimal + "supervision: [a]\n",
       {"policy.yaml:8:14: 'supervision' must be a map, not a list"}},
      {"supervision: unknown keys",
       kMinimal + "supervision:\n"
                  "  reviewers: [ann]\n"
                  "  lexicons:\n"
                  "    - {name: g, severity: high, terms: [x], colour: red}\n",
       {"policy.yaml:9:3: unknown key 'reviewers' (expected one of: lexicons, departments)",
        "policy.yaml:11:45: unknown key 'colour' (expected one of: name, severity, terms, "
        "patterns)"}},
      {"duplicate lexicon, bad severity, nothing to match",
       kMinimal + "supervision:\n"
                  "  lexicons:\n"
                  "    - {name: g, severity: high, terms: [x]}\n"
                  "    - {name: g, severity: urgent, terms: [y]}\n"
                  "    - {name: Bad Name, severity: low, terms: [z]}\n"
                  "    - {name: empty, severity: low, terms: []}\n"
                  "    - name: nothing\n"
                  "      severity: low\n",
       {
           "policy.yaml:11:14: duplicate lexicon 'g' (first at 10:14)",
           "policy.yaml:11:27: unknown severity 'urgent' (expected one of: low, medium, high, "
           "critical)",
           "policy.yaml:12:14: invalid lexicon name 'Bad Name' " + std::string(kNameHint),
           "policy.yaml:13:7: a lexicon must have at least one term or pattern ('terms', "
           "'patterns')",
           "policy.yaml:14:7: a lexicon must have at least one term or pattern ('terms', "
           "'patterns')",
       }},
      {"empty and blank terms",
       kMinimal + "supervision:\n"
                  "  lexicons:\n"
                  "    - name: g\n"
                  "      severity: low\n"
                  "      terms: [\"\", \"  \", \"\u3000\", ok]\n",
       {"policy.yaml:12:15: empty entry in 'terms'",
        "policy.yaml:12:19: empty term '  ' (only white space)",
        "policy.yaml:12:25: empty term '\u3000' (only white space)"}},
      {"patterns that do not compile, at their column",
       kMinimal + "supervision:\n"
                  "  lexicons:\n"
                  "    - name: g\n"
                  "      severity: critical\n"
                  "      patterns: ['risk[- ]?free', 'a(b', 'x*']\n",
       {"policy.yaml:12:35: invalid pattern 'a(b': Missing close parenthesis for group started "
        "at index 1.",
        "policy.yaml:12:42: invalid pattern 'x*': Pattern matches empty buffer; use "
        "HS_FLAG_ALLOWEMPTY to enable support."}},
      {"supervised departments: unknown, twice, unknown lexicon, bad samples",
       kMinimal + "supervision:\n"
                  "  lexicons:\n"
                  "    - {name: g, severity: high, terms: [x]}\n"
                  "  departments:\n"
                  "    - {name: default, lexicons: [g, h, g], sample: 2%}\n"
                  "    - {name: default, sample: 0%}\n"
                  "    - {name: legal}\n"
                  "    - {name: a, sample: 101%}\n"
                  "    - {name: b, sample: \"2\"}\n"
                  "    - {name: c, sample: 0.5.1%}\n"
                  "    - {name: d, sample: -1%, size: 3}\n",
       {"policy.yaml:12:37: unknown lexicon 'h'",
        "policy.yaml:12:40: 'g' is listed twice (first at 12:34)",
        "policy.yaml:13:14: department 'default' is listed twice in 'supervision' (first at "
        "12:14)",
        "policy.yaml:14:14: unknown department 'legal'",
        "policy.yaml:15:14: unknown department 'a'",
        "policy.yaml:15:25: invalid sample '101%' (expected a percentage from 0% to 100%, e.g. "
        "2% or 0.5%)",
        "policy.yaml:16:14: unknown department 'b'",
        "policy.yaml:16:25: invalid sample '2' (expected a percentage from 0% to 100%, e.g. 2% or "
        "0.5%)",
        "policy.yaml:17:14: unknown department 'c'",
        "policy.yaml:17:25: invalid sample '0.5.1%' (expected a percentage from 0% to 100%, e.g. "
        "2% or 0.5%)",
        "policy.yaml:18:14: unknown department 'd'",
        "policy.yaml:18:25: invalid sample '-1%' (expected a percentage from 0% to 100%, e.g. 2% "
        "or 0.5%)",
        "policy.yaml:18:30: unknown key 'size' (expected one of: name, lexicons, sample)"}},
      // The capture scope: departments of the policy and addresses, nothing else.
      {"capture: unknown department",
       kMinimal + "capture: [sales, default]\n",
       {"policy.yaml:8:11: unknown department 'sales' in 'capture' (an address needs an '@')"}},
      {"capture: malformed addresses, domains and globs",
       kMinimal + "capture:\n"
                  "  - ceo@\n"
                  "  - \"@bank.example\"\n"
                  "  - \"*-desk@bank.example\"\n"
                  "  - a@b@c.example\n",
       {"policy.yaml:9:5: invalid address 'ceo@' in 'capture': empty domain",
        "policy.yaml:10:5: invalid address '@bank.example' in 'capture': expected an address, "
        "not a domain; to capture a domain or a pattern, make it a department's member and "
        "list the department",
        "policy.yaml:11:5: invalid address '*-desk@bank.example' in 'capture': expected an "
        "address, not a glob; to capture a domain or a pattern, make it a department's member "
        "and list the department",
        "policy.yaml:12:5: invalid address 'a@b@c.example' in 'capture': expected exactly one "
        "'@'"}},
      {"capture: duplicates (addresses compare normalised)",
       kMinimal + "capture: [default, Ann@X.example, default, ann@x.EXAMPLE]\n",
       {"policy.yaml:8:35: 'default' is listed twice (first at 8:11)",
        "policy.yaml:8:44: 'ann@x.EXAMPLE' is listed twice (first at 8:20)"}},
      {"capture: empty list",
       kMinimal + "capture: []\n",
       {"policy.yaml:8:10: 'capture' must not be empty"}},
      {"capture: a scalar other than all",
       kMinimal + "capture: everything\n",
       {"policy.yaml:8:10: 'capture' must be all or a list of departments and addresses, not "
        "'everything'"}},
      {"capture: no value",
       kMinimal + "capture:\n",
       {"policy.yaml:8:1: 'capture' must be all or a list of departments and addresses, not "
        "empty"}},
      {"capture: a map",
       kMinimal + "capture: {departments: [default]}\n",
       {"policy.yaml:8:10: 'capture' must be all or a list of departments and addresses, not a "
        "map"}},
      {"capture: an entry that is not a string",
       kMinimal + "capture: [default, [x@y.example]]\n",
       {"policy.yaml:8:20: each entry of 'capture' must be a string, not a list"}},
  };
}

BOOST_AUTO_TEST_SUITE(policy_loader)

BOOST_AUTO_TEST_CASE(reports_each_invalid_policy_exactly) {
  std::vector<InvalidCase> cases = InvalidCases();
  BOOST_TEST(cases.size() >= 35u);
  for (const InvalidCase& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Loaded loaded = Load(c.yaml, c.extra);
      BOOST_TEST(!loaded.ok);
      BOOST_TEST(loaded.errors == c.errors, boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(reports_every_error_at_once) {
  const std::string yaml =
      "version: 1\n"                               // 1
      "options:\n"                                 // 2
      "  strip_subaddress: maybe\n"                // 3
      "retention:\n"                               // 4
      "  r7: 7y\n"                                 // 5
      "  r5: five years\n"                         // 6
      "departments:\n"                             // 7
      "  - name: retail\n"                         // 8
      "    members: [alice, \"@bank.example\"]\n"  // 9
      "    retention: r6\n"                        // 10
      "    keys: [keys/none.pem]\n"                // 11
      "  - name: brokerage\n"                      // 12
      "    members:\n"                             // 13
      "      - \"@bank.example\"\n"                // 14
      "      - include: hr/b.txt\n"                // 15
      "    retention: r7\n"                        // 16
      "holds:\n"                                   // 17
      "  - case: X\n"                              // 18
      "    reason: r\n"                            // 19
      "    placed_by: p\n"                         // 20
      "    scope: {departments: [legal]}\n"        // 21
      "access:\n"                                  // 22
      "  - role: r\n"                              // 23
      "    users: [u]\n"                           // 24
      "    departments: [retail]\n"                // 25
      "    operations: [read, write]\n"            // 26
      "colour: blue\n";                            // 27
  Loaded loaded = Load(yaml, {{"hr/b.txt", "ok@bank.example\nnot an address\n"}});
  BOOST_TEST(!loaded.ok);
  std::vector<std::string> want = {
      "policy.yaml:3:21: 'strip_subaddress' must be true or false, not 'maybe'",
      "policy.yaml:6:7: invalid retention period 'five years' (expected a positive number of "
      "years or days, e.g. 7y or 180d)",
      "policy.yaml:8:3: missing the required department 'default' (it gets every address no "
      "rule matches)",
      "policy.yaml:9:15: invalid member 'alice': expected exactly one '@'",
      "policy.yaml:10:16: unknown retention class 'r6'",
      "policy.yaml:11:12: cannot read key file 'keys/none.pem': No such file or directory",
      "policy.yaml:12:5: department 'brokerage' has no keys and the policy names no escrow key: "
      "its mail could not be sealed (give it 'keys' or add 'escrow')",
      "policy.yaml:14:9: @bank.example is a member of both retail and brokerage (first at "
      "policy.yaml:9:22)",
      "policy.yaml:21:27: unknown department 'legal'",
      "policy.yaml:26:24: unknown operation 'write' (expected one of: search, read, export, "
      "hold, purge, verify, audit, policy, review)",
      "policy.yaml:27:1: unknown key 'colour' (expected one of: version, options, retention, "
      "departments, escrow, holds, access, supervision, capture)",
      "hr/b.txt:2:1: invalid address 'not an address': expected exactly one '@'",
  };
  BOOST_TEST(loaded.errors == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(loads_every_key_of_a_complete_policy) {
  std::vector<PolicyFile> extra = {{"hr/retail.txt", ReadCaseFile("hr/retail.txt")}};
  Loaded loaded = Load(ReadCaseFile("bank.yaml"), extra);
  BOOST_TEST(loaded.errors == std::vector<std::string>{}, boost::test_tools::per_element());
  BOOST_REQUIRE(loaded.ok);
  const Policy& p = *loaded.policy;

  BOOST_TEST(!p.options().case_sensitive_local_part);
  BOOST_TEST(p.options().strip_subaddress);
  BOOST_TEST(p.options().subaddress_separator == '+');

  BOOST_REQUIRE(p.retention().size() == 5u);
  const char* names[] = {"retail-5y", "brokerage-20y", "insurance-10y", "default-7y", "trash-180d"};
  uint32_t years[] = {5, 20, 10, 7, 0};
  uint32_t days[] = {0, 0, 0, 0, 180};
  for (size_t i = 0; i < 5; ++i) {
    BOOST_TEST(p.retention()[i].name == names[i]);
    BOOST_TEST(p.retention()[i].period.years == years[i]);
    BOOST_TEST(p.retention()[i].period.days == days[i]);
  }
  BOOST_TEST(p.retention()[4].period.text == "180d");
  BOOST_TEST(p.FindRetention("brokerage-20y") == &p.retention()[1]);
  BOOST_TEST(p.FindRetention("none") == nullptr);

  BOOST_REQUIRE(p.departments().size() == 4u);
  const Department& retail = p.departments()[0];
  BOOST_TEST(retail.name == "retail");
  BOOST_TEST(retail.retention == "retail-5y");
  BOOST_TEST(retail.keys == std::vector<std::string>{"keys/retail.pem"});
  BOOST_TEST(!retail.index);
  BOOST_REQUIRE(retail.members.size() == 6u);
  struct Want {
    MatchKind kind;
    const char* pattern;
    const char* where;
    const char* text;
  } want[] = {
      {MatchKind::kDomain, "@retail.bank.example", "policy.yaml:16:9", "@retail.bank.example"},
      {MatchKind::kSubdomains, "@*.retail.bank.example", "policy.yaml:17:9",
       "@*.retail.bank.example"},
      {MatchKind::kAddress, "alice@bank.example", "policy.yaml:18:9", "Alice@Bank.Example"},
      {MatchKind::kAddress, "carol@bank.example", "hr/retail.txt:2:1", "carol@bank.example"},
      {MatchKind::kAddress, "dave.smith@bank.example", "hr/retail.txt:3:3",
       "Dave.Smith@bank.example"},
      {MatchKind::kAddress, "erin@bank.example", "hr/retail.txt:5:1", "erin+lists@bank.example"},
  };
  for (size_t i = 0; i < 6; ++i) {
    BOOST_TEST_CONTEXT("member " << i) {
      BOOST_TEST((retail.members[i].kind == want[i].kind));
      BOOST_TEST(retail.members[i].pattern == want[i].pattern);
      BOOST_TEST(retail.members[i].where == want[i].where);
      BOOST_TEST(retail.members[i].text == want[i].text);
    }
  }
  const Department& brokerage = p.departments()[1];
  BOOST_TEST(brokerage.name == "brokerage");
  BOOST_REQUIRE(brokerage.members.size() == 2u);
  BOOST_TEST((brokerage.members[0].kind == MatchKind::kGlob));
  BOOST_TEST(brokerage.members[0].pattern == "*-desk@bank.example");
  BOOST_TEST((brokerage.keys == std::vector<std::string>{"keys/brokerage.pem", "keys/retail.pem"}));
  BOOST_TEST(brokerage.index);
  const Department& insurance = p.departments()[2];
  BOOST_TEST(insurance.keys == std::vector<std::string>{"keys/insurance.pem"});
  BOOST_TEST(insurance.index);  // the default
  const Department& dflt = p.departments()[3];
  BOOST_TEST(dflt.name == "default");
  BOOST_TEST(dflt.members.empty());
  BOOST_TEST(dflt.retention == "default-7y");
  BOOST_TEST(p.FindDepartment("insurance") == &insurance);
  BOOST_TEST(p.FindDepartment("legal") == nullptr);

  BOOST_REQUIRE(p.holds().size() == 2u);
  const Hold& sec = p.holds()[0];
  BOOST_TEST(sec.case_id == "SEC-2026-001");
  BOOST_TEST(sec.reason == "SEC inquiry into block trades");
  BOOST_TEST(sec.placed_by == "jane.doe");
  BOOST_TEST(sec.scope.departments == std::vector<std::string>{"brokerage"});
  BOOST_TEST(sec.scope.addresses == std::vector<std::string>{"bob@bank.example"});
  BOOST_TEST(FormatTimeUtc(sec.scope.since_us) == "2026-01-01T00:00:00.000000Z");
  BOOST_TEST(FormatTimeUtc(sec.scope.until_us) == "2026-07-01T12:00:00.000000Z");
  BOOST_REQUIRE(sec.scope.seqs.size() == 2u);
  BOOST_TEST(sec.scope.seqs[0].first == 12u);
  BOOST_TEST(sec.scope.seqs[0].second == 12u);
  BOOST_TEST(sec.scope.seqs[1].first == 100u);
  BOOST_TEST(sec.scope.seqs[1].second == 200u);
  const Hold& lit = p.holds()[1];
  BOOST_TEST(lit.case_id == "LIT-7");
  BOOST_TEST(lit.scope.departments.empty());
  BOOST_TEST(FormatTimeUtc(lit.scope.since_us) == "2025-06-01T00:00:00.000000Z");
  BOOST_TEST(lit.scope.until_us == INT64_MAX);

  BOOST_REQUIRE(p.roles().size() == 2u);
  const Role& compliance = p.roles()[0];
  BOOST_TEST(compliance.name == "compliance");
  BOOST_TEST(compliance.users == std::vector<std::string>{"jane"});
  BOOST_TEST(compliance.groups == std::vector<std::string>{"compliance"});
  BOOST_TEST(compliance.departments == std::vector<std::string>{"*"});
  BOOST_TEST(compliance.operations.size() == 8u);
  const Role& sup = p.roles()[1];
  BOOST_TEST(sup.users.empty());
  BOOST_TEST((sup.departments == std::vector<std::string>{"retail", "insurance"}));
  BOOST_TEST((sup.operations == std::set<Operation>{Operation::kSearch, Operation::kRead}));

  // The journaled files: the policy, then the include file and the (public) key files in
  // the order first referenced, byte for byte.
  BOOST_REQUIRE(p.files().size() == 6u);
  BOOST_TEST(p.files()[2].bytes == ReadCaseFile("keys/retail.pem"));
  BOOST_TEST(p.files()[3].bytes == ReadCaseFile("keys/brokerage.pem"));
  BOOST_TEST(p.files()[4].bytes == ReadCaseFile("keys/insurance.pem"));
  BOOST_TEST(p.files()[5].bytes == ReadCaseFile("keys/escrow.pem"));

  // The escrow key, and every key with its holder and fingerprint.
  BOOST_TEST(p.escrow() == std::vector<std::string>{"keys/escrow.pem"});
  std::vector<PolicyKey> keys = p.Keys();
  std::vector<std::string> holders;
  for (const PolicyKey& k : keys) holders.push_back(k.department + " " + k.file);
  BOOST_TEST(
      holders == (std::vector<std::string>{"retail keys/retail.pem", "brokerage keys/brokerage.pem",
                                           "brokerage keys/retail.pem",
                                           "insurance keys/insurance.pem", " keys/escrow.pem"}),
      boost::test_tools::per_element());
  for (const PolicyKey& k : keys) {
    Sha256Digest want;
    BOOST_REQUIRE(CertificateKeyFingerprint(ReadCaseFile(k.file), &want).ok());
    BOOST_TEST((k.fingerprint == want));
    BOOST_TEST((*p.KeyFingerprint(k.file) == want));
  }
  BOOST_TEST(p.KeyFingerprint("policy.yaml") == nullptr);
  BOOST_TEST(*p.FileBytes("hr/retail.txt") == ReadCaseFile("hr/retail.txt"));
  BOOST_TEST(p.FileBytes("none") == nullptr);
  BOOST_TEST(p.files()[0].path == "policy.yaml");
  BOOST_TEST(p.files()[0].bytes == ReadCaseFile("bank.yaml"));
  BOOST_TEST(p.files()[1].path == "hr/retail.txt");
  BOOST_TEST(p.files()[1].bytes == ReadCaseFile("hr/retail.txt"));
}

BOOST_AUTO_TEST_CASE(digest_covers_paths_and_bytes_of_every_file) {
  std::string yaml = kMinimal +
                     "  - name: retail\n"
                     "    members: [{include: hr/r.txt}]\n"
                     "    retention: r7\n";
  Loaded loaded = Load(yaml, {{"hr/r.txt", "a@bank.example\n"}});
  BOOST_REQUIRE(loaded.ok);
  Sha256 sha;
  auto be = [&sha](uint64_t v, int n) {
    std::string s;
    for (int i = n - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    sha.Update(s);
  };
  be(11, 4);
  sha.Update("policy.yaml");
  be(yaml.size(), 8);
  sha.Update(yaml);
  be(8, 4);
  sha.Update("hr/r.txt");
  be(15, 8);
  sha.Update("a@bank.example\n");
  const std::string key = ReadCaseFile("keys/insurance.pem");  // the escrow key, read last
  be(18, 4);
  sha.Update("keys/insurance.pem");
  be(key.size(), 8);
  sha.Update(key);
  BOOST_TEST((loaded.policy->digest() == sha.Final()));
}

BOOST_AUTO_TEST_CASE(accepts_boolean_spellings_and_explicit_tags) {
  Loaded loaded = Load(
      "version: !!int 1\n"
      "options:\n"
      "  case_sensitive_local_part: True\n"
      "  strip_subaddress: FALSE\n"
      "  subaddress_separator: '-'\n" +
      kMinimal.substr(11) + "  - name: retail\n    retention: r7\n    index: !!bool false\n");
  BOOST_REQUIRE(loaded.ok);
  BOOST_TEST(loaded.policy->options().case_sensitive_local_part);
  BOOST_TEST(!loaded.policy->options().strip_subaddress);
  BOOST_TEST(loaded.policy->options().subaddress_separator == '-');
  BOOST_TEST(!loaded.policy->departments()[1].index);
}

BOOST_AUTO_TEST_CASE(same_include_in_two_departments_is_ambiguous_once_per_line) {
  std::string yaml = kMinimal +
                     "  - name: retail\n"
                     "    members: [{include: hr/r.txt}]\n"
                     "    retention: r7\n"
                     "  - name: brokerage\n"
                     "    members: [{include: hr/r.txt}]\n"
                     "    retention: r7\n";
  Loaded loaded = Load(yaml, {{"hr/r.txt", "a@bank.example\nb@bank.example\nbad\n"}});
  std::vector<std::string> want = {
      "hr/r.txt:1:1: a@bank.example is a member of both retail and brokerage (first at "
      "hr/r.txt:1:1)",
      "hr/r.txt:2:1: b@bank.example is a member of both retail and brokerage (first at "
      "hr/r.txt:2:1)",
      "hr/r.txt:3:1: invalid address 'bad': expected exactly one '@'",
  };
  BOOST_TEST(loaded.errors == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(failed_load_leaves_the_policy_unchanged) {
  std::vector<PolicyFile> files = KeyFiles();
  files.push_back({"good.yaml", kMinimal});
  files.push_back({"bad.yaml", "version: x\n"});
  FileReader reader = MemoryFileReader(files);
  std::shared_ptr<const Policy> policy;
  std::vector<PolicyError> errors;
  BOOST_REQUIRE(LoadPolicy("good.yaml", reader, &policy, &errors));
  std::shared_ptr<const Policy> before = policy;
  BOOST_TEST(!LoadPolicy("bad.yaml", reader, &policy, &errors));
  BOOST_TEST(policy == before);
  std::vector<std::string> got;
  for (const PolicyError& e : errors) got.push_back(e.ToString());
  std::vector<std::string> want = {
      "bad.yaml:1:1: missing required key 'retention'",
      "bad.yaml:1:1: missing required key 'departments'",
      "bad.yaml:1:10: 'version' must be an integer, not 'x'",
  };
  BOOST_TEST(got == want, boost::test_tools::per_element());
  BOOST_REQUIRE(errors.size() == 3u);
  BOOST_TEST(errors[2].file == "bad.yaml");
  BOOST_TEST(errors[2].line == 1);
  BOOST_TEST(errors[2].column == 10);
  BOOST_TEST(errors[2].message == "'version' must be an integer, not 'x'");
}

BOOST_AUTO_TEST_CASE(unreadable_policy_has_no_position) {
  std::shared_ptr<const Policy> policy;
  std::vector<PolicyError> errors;
  BOOST_TEST(!LoadPolicy("none.yaml", MemoryFileReader({}), &policy, &errors));
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].line == 0);
  BOOST_TEST(errors[0].ToString() == "none.yaml: cannot read policy: No such file or directory");

  TempDir dir;
  errors.clear();
  BOOST_TEST(!LoadPolicy(dir.path(), DiskFileReader(), &policy, &errors));
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].ToString() == dir.path() + ": cannot read policy: not a regular file");

  // A FIFO is refused at once rather than waited on.
  std::string fifo = dir.path() + "/fifo.yaml";
  BOOST_REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  errors.clear();
  BOOST_TEST(!LoadPolicy(fifo, DiskFileReader(), &policy, &errors));
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].ToString() == fifo + ": cannot read policy: not a regular file");
}

BOOST_AUTO_TEST_CASE(loads_from_disk_relative_to_the_policy_directory) {
  TempDir dir;
  std::string etc = dir.path() + "/etc";
  BOOST_REQUIRE(std::system(("mkdir -p " + etc + "/hr " + etc + "/keys").c_str()) == 0);
  WriteFile(etc + "/mailjournal.yaml", ReadCaseFile("bank.yaml"));
  WriteFile(etc + "/hr/retail.txt", ReadCaseFile("hr/retail.txt"));
  for (const char* key :
       {"keys/retail.pem", "keys/brokerage.pem", "keys/insurance.pem", "keys/escrow.pem"}) {
    WriteFile(etc + "/" + key, ReadCaseFile(key));
  }
  std::shared_ptr<const Policy> policy;
  std::vector<PolicyError> errors;
  BOOST_REQUIRE(LoadPolicy(etc + "/mailjournal.yaml", DiskFileReader(), &policy, &errors));
  BOOST_TEST(errors.empty());
  BOOST_TEST(policy->files()[1].path == etc + "/hr/retail.txt");
  BOOST_TEST(policy->departments()[0].keys == std::vector<std::string>{etc + "/keys/retail.pem"});
  BOOST_TEST(policy->departments()[0].members[3].where == etc + "/hr/retail.txt:2:1");

  // A key file that disappears makes the same policy invalid, with the path it tried.
  BOOST_REQUIRE(std::remove((etc + "/keys/insurance.pem").c_str()) == 0);
  BOOST_TEST(!LoadPolicy(etc + "/mailjournal.yaml", DiskFileReader(), &policy, &errors));
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].ToString() == etc + "/mailjournal.yaml:35:12: cannot read key file '" + etc +
                                         "/keys/insurance.pem': No such file or directory");
}

BOOST_AUTO_TEST_CASE(accepts_only_rsa_certificates_as_keys) {
  TempDir dir;
  std::string cmd = "cd " + dir.path() +
                    " && openssl req -x509 -newkey rsa:3072 -nodes -subj /CN=x -days 36500"
                    " -keyout k.pem -out cert.pem >/dev/null 2>&1"
                    " && openssl pkey -in k.pem -pubout -out pub.pem 2>/dev/null"
                    " && openssl req -x509 -newkey rsa:1024 -nodes -subj /CN=x -days 2"
                    " -keyout k1024.pem -out short.pem >/dev/null 2>&1"
                    " && openssl req -x509 -newkey ed25519 -nodes -subj /CN=x -days 2"
                    " -keyout ked.pem -out ed.pem >/dev/null 2>&1";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  BOOST_REQUIRE(std::system(("mkdir " + dir.path() + "/keys").c_str()) == 0);
  WriteFile(dir.path() + "/keys/insurance.pem", ReadCaseFile("keys/insurance.pem"));
  WriteFile(dir.path() + "/p.yaml",
            kMinimal +
                "  - name: retail\n"
                "    retention: r7\n"
                "    keys: [cert.pem, pub.pem, k.pem, short.pem, ed.pem]\n");
  std::shared_ptr<const Policy> policy;
  std::vector<PolicyError> errors;
  BOOST_TEST(!LoadPolicy(dir.path() + "/p.yaml", DiskFileReader(), &policy, &errors));
  std::vector<std::string> got;
  for (const PolicyError& e : errors) got.push_back(e.ToString());
  // Only the RSA certificate can seal: a bare public key, a private key, a short RSA key and
  // another key type are refused.
  std::string at = dir.path() + "/p.yaml:10:";
  std::vector<std::string> want = {
      at + "22: key file '" + dir.path() +
          "/pub.pem' holds no PEM certificate (a bare public key cannot name a CMS recipient; "
          "make one with mailjournal keygen)",
      at + "31: key file '" + dir.path() +
          "/k.pem' holds a private key (give only the certificate or public key)",
      at + "38: key file '" + dir.path() +
          "/short.pem' holds an RSA key of 1024 bits (at least 2048)",
      at + "49: key file '" + dir.path() +
          "/ed.pem' holds a certificate whose key is not RSA (sealing uses RSA-OAEP)"};
  BOOST_TEST(got == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(include_files_may_have_a_byte_order_mark_and_crlf) {
  std::string yaml = kMinimal +
                     "  - name: retail\n"
                     "    members: [{include: hr/r.txt}]\n"
                     "    retention: r7\n";
  Loaded loaded = Load(yaml, {{"hr/r.txt",
                               "\xEF\xBB\xBF"
                               "Alice@Bank.Example\r\n\r\n\tbob@bank.example \r\n"}});
  BOOST_REQUIRE(loaded.ok);
  const std::vector<MemberRule>& members = loaded.policy->departments()[1].members;
  BOOST_REQUIRE(members.size() == 2u);
  BOOST_TEST(members[0].pattern == "alice@bank.example");
  BOOST_TEST(members[0].text == "Alice@Bank.Example");
  BOOST_TEST(members[0].where == "hr/r.txt:1:1");
  BOOST_TEST(members[1].pattern == "bob@bank.example");
  BOOST_TEST(members[1].where == "hr/r.txt:3:2");
}

BOOST_AUTO_TEST_CASE(options_apply_wherever_they_are_written) {
  Loaded loaded =
      Load(kMinimal +
           "  - {name: retail, members: [Bob+X@bank.example], retention: r7}\n"
           "holds:\n"
           "  - {case: C, reason: r, placed_by: p, scope: {addresses: [BOB+y@bank.example]}}\n"
           "options: {case_sensitive_local_part: true, strip_subaddress: true}\n");
  BOOST_REQUIRE(loaded.ok);
  BOOST_TEST(loaded.policy->departments()[1].members[0].pattern == "Bob@bank.example");
  BOOST_TEST(loaded.policy->holds()[0].scope.addresses ==
             std::vector<std::string>{"BOB@bank.example"});
}

BOOST_AUTO_TEST_CASE(capture_is_all_by_default_or_the_entries_listed) {
  for (const std::string& tail :
       {std::string(), std::string("capture: all\n"), std::string("capture: \"all\"\n")}) {
    Loaded loaded = Load(kMinimal + tail);
    BOOST_REQUIRE(loaded.ok);
    BOOST_TEST(loaded.policy->capture().all);
    BOOST_TEST(loaded.policy->capture().entries.empty());
    BOOST_TEST(DescribeCapture(loaded.policy->capture()) == "all");
  }
  // Addresses are normalised as member rules are (options apply wherever they are written).
  Loaded loaded = Load(kMinimal +
                       "capture:\n"
                       "  - <Ann+Tag@X.Example>\n"
                       "  - default\n"
                       "options: {strip_subaddress: true}\n");
  BOOST_REQUIRE(loaded.ok);
  const CaptureScope& capture = loaded.policy->capture();
  BOOST_TEST(!capture.all);
  BOOST_REQUIRE(capture.entries.size() == 2u);
  BOOST_TEST(!capture.entries[0].department);
  BOOST_TEST(capture.entries[0].value == "ann@x.example");
  BOOST_TEST(capture.entries[0].text == "<Ann+Tag@X.Example>");
  BOOST_TEST(capture.entries[0].where == "policy.yaml:9:5");
  BOOST_TEST(capture.entries[1].department);
  BOOST_TEST(capture.entries[1].value == "default");
  BOOST_TEST(capture.entries[1].where == "policy.yaml:10:5");
  BOOST_TEST(DescribeCapture(capture) == "departments default; addresses <Ann+Tag@X.Example>");
}

BOOST_AUTO_TEST_CASE(names_operations) {
  for (Operation op :
       {Operation::kSearch, Operation::kRead, Operation::kExport, Operation::kHold,
        Operation::kPurge, Operation::kVerify, Operation::kAudit, Operation::kPolicy}) {
    Operation back;
    BOOST_REQUIRE(ParseOperation(OperationName(op), &back));
    BOOST_TEST((back == op));
  }
  Operation op;
  BOOST_TEST(!ParseOperation("delete", &op));
  BOOST_TEST(std::string(OperationName(Operation::kPolicy)) == "policy");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
