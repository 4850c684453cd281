#include "mailjournal/time_util.h"

#include <time.h>

#include <cctype>
#include <cstdio>

namespace mailjournal {

namespace {

struct tm UtcTm(int64_t time_us) {
  time_t secs = static_cast<time_t>(time_us / 1000000);
  if (time_us < 0 && time_us % 1000000 != 0) --secs;
  struct tm tm;
  gmtime_r(&secs, &tm);
  return tm;
}

// Reads exactly n digits at text[*pos].
bool Digits(const std::string& text, size_t* pos, int n, int* value) {
  if (*pos + n > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *value = v;
  return true;
}

bool Expect(const std::string& text, size_t* pos, char c) {
  if (*pos < text.size() && text[*pos] == c) {
    ++*pos;
    return true;
  }
  return false;
}

}  // namespace

int64_t NowMicros() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::string FormatTimeUtc(int64_t time_us) {
  struct tm tm = UtcTm(time_us);
  int64_t frac = time_us % 1000000;
  if (frac < 0) frac += 1000000;
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           static_cast<long long>(frac));
  return buf;
}

std::string FormatAsctimeUtc(int64_t time_us) {
  struct tm tm = UtcTm(time_us);
  char buf[64];
  strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return buf;
}

Status ParseTime(const std::string& text, int64_t* time_us) {
  Status bad = Status::InvalidArgument(
      "time '" + text + "': expected ISO 8601, e.g. 2026-11-27 or 2026-11-27T10:00:00Z");
  size_t pos = 0;
  struct tm tm = {};
  int year, mon, day, hour = 0, min = 0, sec = 0;
  if (!Digits(text, &pos, 4, &year) || !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &mon) ||
      !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &day)) {
    return bad;
  }
  int64_t micros = 0;
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
    ++pos;
    if (!Digits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &min)) {
      return bad;
    }
    if (Expect(text, &pos, ':')) {
      if (!Digits(text, &pos, 2, &sec)) return bad;
      if (Expect(text, &pos, '.')) {
        int scale = 100000, digits = 0;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
          micros += (text[pos++] - '0') * scale;
          scale /= 10;
          ++digits;
        }
        if (digits == 0) return bad;
      }
    }
    if (Expect(text, &pos, 'Z')) {
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      int sign = text[pos++] == '-' ? -1 : 1;
      int oh, om;
      if (!Digits(text, &pos, 2, &oh) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &om) ||
          oh > 23 || om > 59) {
        return bad;
      }
      offset_minutes = sign * (oh * 60 + om);
    }
  }
  if (pos != text.size()) return bad;
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return bad;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  struct tm check;
  gmtime_r(&t, &check);
  if (check.tm_mday != day && sec != 60) return bad;  // 2026-02-31 and friends
  *time_us = (static_cast<int64_t>(t) - offset_minutes * 60) * 1000000 + micros;
  return Status::OK();
}

}  // namespace mailjournal
