// What `--check` prints: a service's effective configuration (file, defaults and command line
// merged), TOML-shaped so that it can be pasted into the service's file.
//
// Secrets never appear: the DSN is printed through redact_dsn(), and a service adds no password,
// key or token value, only the paths of the files holding them.
#pragma once

#include <string>

namespace vdi {

class Config;

class EffectiveConfig {
public:
    // Starts "[name]"; keys added after it belong to it.
    void section(const std::string& name);
    void add(const std::string& key, const std::string& value);  // a TOML string (quoted, escaped)
    void add(const std::string& key, const char* value) { add(key, std::string(value)); }
    void add(const std::string& key, long long value);
    void add(const std::string& key, bool value);
    // [database] (the DSN redacted, where it came from is not repeated) and [log].
    void add_common(const Config& config);
    const std::string& text() const { return text_; }

private:
    std::string text_;
};

}  // namespace vdi
