// A small blocking HTTPS/1.1 client (Boost.Beast + OpenSSL) for tests and benchmarks: one
// keep-alive connection, reconnecting when the server closed it. The server's certificate is
// verified against the PEM file given (the broker's self-signed one), not its host name.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace vdi::test {

struct HttpResult {
    int status = 0;  // 0: no response (connection failed or closed)
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class HttpsClient {
public:
    HttpsClient(std::string host, unsigned short port, std::filesystem::path ca_certificate,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));
    ~HttpsClient();
    HttpsClient(const HttpsClient&) = delete;
    HttpsClient& operator=(const HttpsClient&) = delete;

    // `body` empty: none sent. `token`: sent as a bearer token.
    HttpResult request(const std::string& method, const std::string& target, const std::string& body = "",
                       const std::string& token = "", const std::string& content_type = "application/json");
    HttpResult get(const std::string& target, const std::string& token = "") { return request("GET", target, "", token); }
    HttpResult post(const std::string& target, const nlohmann::json& body, const std::string& token = "")
    {
        return request("POST", target, body.dump(), token);
    }
    HttpResult patch_json(const std::string& target, const nlohmann::json& body, const std::string& token = "")
    {
        return request("PATCH", target, body.dump(), token);
    }
    void close();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace vdi::test
