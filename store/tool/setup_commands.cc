// mailjournal config, check-postfix and help: commands about the installation, which need
// no journal (mailjournal(8)).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "help_page.h"
#include "postfix_check.h"

namespace mailjournal {

namespace {

// Runs argv[0] (looked up in PATH) with `argv`, its standard output into *captured, or the
// caller's standard output when captured is null; standard error is the caller's. NotFound
// when the program cannot be started; otherwise OK, with its exit status in *exit_status
// (-1 when killed by a signal).
Status RunProgram(const std::vector<std::string>& argv, std::string* captured, int* exit_status) {
  int out[2] = {-1, -1}, report[2];
  if ((captured != nullptr && pipe2(out, O_CLOEXEC) != 0) || pipe2(report, O_CLOEXEC) != 0) {
    return Status::IOError(std::string("pipe: ") + std::strerror(errno));
  }
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    if (captured != nullptr) dup2(out[1], 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    int e = errno;
    (void)!write(report[1], &e, sizeof e);  // the exec failed: tell the parent why
    _exit(127);
  }
  close(report[1]);
  if (captured != nullptr) {
    close(out[1]);
    char buf[8192];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) captured->append(buf, n);
    }
    close(out[0]);
  }
  int exec_errno = 0;
  ssize_t got = read(report[0], &exec_errno, sizeof exec_errno);
  close(report[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    return Status::NotFound(argv[0] + ": " + std::strerror(exec_errno));
  }
  *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return Status::OK();
}

int CmdConfig(const ConfigCliOptions& o) {
  std::vector<const SettingInfo*> settings;
  for (const std::string& name : o.names) {
    const SettingInfo* setting = FindSetting(name);
    if (setting == nullptr) {
      return Fail(Status::InvalidArgument("config: unknown setting '" + name + "'"));
    }
    settings.push_back(setting);
  }
  DaemonConfig config;
  std::vector<std::string> errors;
  if (!o.defaults) ReadDaemonConfig(o.file, &config, &errors);
  if (o.changed) {
    std::vector<const SettingInfo*> changed = ChangedSettings(config);
    if (!settings.empty()) {
      changed.erase(std::remove_if(changed.begin(), changed.end(),
                                   [&settings](const SettingInfo* s) {
                                     return std::find(settings.begin(), settings.end(), s) ==
                                            settings.end();
                                   }),
                    changed.end());
    }
    settings = changed;
  } else if (settings.empty()) {
    for (const SettingInfo& setting : DaemonSettings()) settings.push_back(&setting);
  }
  for (const SettingInfo* setting : settings) {
    // "name =" for an empty value, as postconf(1) prints it.
    std::string value = SettingValue(*setting, config);
    std::printf("%s =%s%s\n", setting->name, value.empty() ? "" : " ", value.c_str());
  }
  for (const std::string& e : errors) std::fprintf(stderr, "mailjournal: %s\n", e.c_str());
  return errors.empty() ? EX_OK : EX_CONFIG;
}

// postconf [-c DIR] ARGS..., its output into *out.
Status Postconf(const std::string& dir, std::vector<std::string> args, std::string* out) {
  std::vector<std::string> argv = {"postconf"};
  if (!dir.empty()) argv.insert(argv.end(), {"-c", dir});
  argv.insert(argv.end(), args.begin(), args.end());
  int exit_status = 0;
  Status s = RunProgram(argv, out, &exit_status);
  if (s.ok() && exit_status != 0) {
    std::string line;
    for (const std::string& a : argv) line += (line.empty() ? "" : " ") + a;
    s = Status::Unavailable(line + ": exit status " + std::to_string(exit_status));
  }
  return s.ok() ? s : Status::Unavailable("check-postfix: " + s.message());
}

int CmdCheckPostfix(const CheckPostfixOptions& o) {
  PostfixSettings settings;
  std::string main_text, services_text, overrides_text;
  Status s = Postconf(o.postfix_dir, {"-x"}, &main_text);
  if (s.ok()) s = Postconf(o.postfix_dir, {"-M"}, &services_text);
  if (s.ok()) s = Postconf(o.postfix_dir, {"-P", "-x"}, &overrides_text);
  if (!s.ok()) return Fail(s);
  ParsePostconfParameters(main_text, &settings.main);
  ParseMasterServices(services_text, overrides_text, &settings.services);
  std::string journal, shown;
  if (!o.milter.empty()) {
    shown = o.milter;
    journal = NormalizePostfixMilter(o.milter, settings.main["queue_directory"]);
  } else {
    DaemonConfig config;
    std::vector<std::string> errors;
    ReadDaemonConfig(o.config_file, &config, &errors);
    for (const std::string& e : errors) std::fprintf(stderr, "mailjournal: %s\n", e.c_str());
    if (!errors.empty()) return EX_CONFIG;
    shown = config.milter_socket;
    journal = NormalizeDaemonMilter(config.milter_socket);
    if (journal.empty()) {
      return FailWith(
          EX_CONFIG,
          Status::InvalidArgument("check-postfix: cannot tell Postfix's name for milter_socket " +
                                  config.milter_socket + ": give --milter SOCKET"));
    }
  }
  std::vector<std::string> notes;
  std::vector<std::string> warnings = FindJournalBypasses(settings, journal, &notes);
  for (const std::string& w : warnings) std::printf("warning: %s\n", w.c_str());
  for (const std::string& n : notes) std::printf("note: %s\n", n.c_str());
  if (warnings.empty()) {
    std::printf("postfix: no bypass of the journal milter %s found\n", shown.c_str());
    return EX_OK;
  }
  std::printf("postfix: %zu %s of the journal milter %s\n", warnings.size(),
              warnings.size() == 1 ? "bypass" : "bypasses", shown.c_str());
  return 1;
}

int CmdHelp(CLI::App* app, const std::vector<std::string>& words) {
  // Each word names a command of the one before: "policy check".
  std::string command;
  CLI::App* level = app;
  for (const std::string& word : words) {
    CLI::App* next = nullptr;
    for (CLI::App* sub : level->get_subcommands({})) {
      if (sub->get_name() == word) next = sub;
    }
    command += (command.empty() ? "" : " ") + word;
    if (next == nullptr) return Fail(Status::InvalidArgument("help: no command '" + command + "'"));
    level = next;
  }
  HelpPage page = FindHelpPage(command);
  std::string file = HelpPageFile(page, MAILJOURNAL_MAN_DIR);
  for (const HelpCommand& shower : HelpCommands(page, file, isatty(1) != 0)) {
    int exit_status = 0;
    std::string output;
    Status s = RunProgram(shower.argv, shower.overstrike ? &output : nullptr, &exit_status);
    if (s.IsNotFound()) continue;  // no such program: the next one
    if (s.ok() && exit_status != 0) {
      s = Status::Unavailable("help: " + shower.argv[0] + " could not show " + page.page + "(8)");
    }
    if (s.ok() && shower.overstrike) {
      std::string plain = RemoveOverstrike(output);
      if (std::fwrite(plain.data(), 1, plain.size(), stdout) != plain.size()) {
        s = Status::IOError("standard output: write failed");
      }
    }
    return s.ok() ? EX_OK : Fail(s);
  }
  return Fail(Status::Unavailable("help: cannot show " + page.page + "(8): neither man(1) nor " +
                                  "mandoc(1) was found"));
}

}  // namespace

void ReadDaemonConfig(const std::string& file, DaemonConfig* config,
                      std::vector<std::string>* errors) {
  struct stat st;
  if (!file.empty()) {
    ReadConfigFile(file, config, errors);
  } else if (stat(kDefaultConfigFile, &st) == 0) {
    ReadConfigFile(kDefaultConfigFile, config, errors);
  }
}

void SetupCommands::AddTo(CLI::App* app) {
  app_ = app;
  config_ = app->add_subcommand(
      "config", "show mailjournald's settings as name = value (like postconf -d / -n)");
  auto* defaults = config_->add_flag("--defaults", config_options_.defaults,
                                     "the built-in defaults, not the configuration file's");
  config_
      ->add_flag("--changed", config_options_.changed,
                 "only the settings the configuration file changes from their defaults")
      ->excludes(defaults);
  config_
      ->add_option("-c,--config", config_options_.file,
                   "mailjournald's configuration file (default /etc/mailjournal/mailjournald.conf)")
      ->excludes(defaults);
  config_->add_option("name", config_options_.names, "only these settings");

  check_postfix_ = app->add_subcommand(
      "check-postfix", "find the ways Postfix's configuration lets mail past the journal");
  check_postfix_->add_option("-c,--postfix-config", check_postfix_options_.postfix_dir,
                             "Postfix's configuration directory (postconf -c DIR)");
  auto* milter = check_postfix_->add_option(
      "--milter", check_postfix_options_.milter,
      "the journal milter as main.cf names it (default: mailjournald's milter_socket)");
  check_postfix_
      ->add_option("--config", check_postfix_options_.config_file,
                   "mailjournald's configuration file, for its milter_socket")
      ->excludes(milter);

  help_ = app->add_subcommand("help", "show a command's manual page");
  help_->add_option("command", help_command_,
                    "the command, e.g. search or policy check (none: mailjournal(8))");
}

bool SetupCommands::Selected() const { return *config_ || *check_postfix_ || *help_; }

int SetupCommands::Run() const {
  if (*config_) return CmdConfig(config_options_);
  if (*check_postfix_) return CmdCheckPostfix(check_postfix_options_);
  return CmdHelp(app_, help_command_);
}

}  // namespace mailjournal
