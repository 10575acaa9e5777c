// Little-endian binary writing and bounds-checked reading for the snapshot format.
// ByteReader throws SnapshotError naming what it was reading when the data runs out or a
// length is implausible, so a corrupt file is refused, never trusted.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "vdi/hv/hypervisor.h"

namespace vdi::hv {

class SnapshotError : public HvError {
public:
    using HvError::HvError;
};

class ByteWriter {
public:
    template <typename T>
    void put(const T& value)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
        bytes_.insert(bytes_.end(), p, p + sizeof(T));
    }
    void put_bytes(std::span<const std::uint8_t> data)
    {
        put(static_cast<std::uint32_t>(data.size()));
        bytes_.insert(bytes_.end(), data.begin(), data.end());
    }
    void put_string(const std::string& text)
    {
        put_bytes(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    }
    template <typename T>
    void put_vector(const std::vector<T>& items)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        put(static_cast<std::uint32_t>(items.size()));
        if (!items.empty()) {
            const auto* p = reinterpret_cast<const std::uint8_t*>(items.data());
            bytes_.insert(bytes_.end(), p, p + items.size() * sizeof(T));
        }
    }
    // Starts a section: returns the position of its length field for end_section().
    std::size_t begin_section(std::uint32_t tag)
    {
        put(tag);
        const std::size_t at = bytes_.size();
        put(std::uint64_t{0});
        return at;
    }
    void end_section(std::size_t at)
    {
        const std::uint64_t length = bytes_.size() - at - sizeof(std::uint64_t);
        std::memcpy(bytes_.data() + at, &length, sizeof length);
    }
    std::vector<std::uint8_t>& bytes() { return bytes_; }

private:
    std::vector<std::uint8_t> bytes_;
};

class ByteReader {
public:
    ByteReader(std::span<const std::uint8_t> data, std::string what) : data_(data), what_(std::move(what)) {}

    template <typename T>
    T get()
    {
        static_assert(std::is_trivially_copyable_v<T>);
        need(sizeof(T));
        T value;
        std::memcpy(&value, data_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return value;
    }
    bool get_bool()
    {
        const auto value = get<std::uint8_t>();
        if (value > 1) {
            throw SnapshotError(what_ + ": a flag holds " + std::to_string(value) + " (0 or 1 expected)");
        }
        return value == 1;
    }
    std::vector<std::uint8_t> get_bytes(std::size_t limit)
    {
        const auto size = get<std::uint32_t>();
        if (size > limit) {
            throw SnapshotError(what_ + ": a field of " + std::to_string(size) + " bytes exceeds its limit of " +
                                std::to_string(limit));
        }
        need(size);
        std::vector<std::uint8_t> out(data_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                      data_.begin() + static_cast<std::ptrdiff_t>(pos_ + size));
        pos_ += size;
        return out;
    }
    std::string get_string(std::size_t limit)
    {
        const auto bytes = get_bytes(limit);
        return {bytes.begin(), bytes.end()};
    }
    template <typename T>
    std::vector<T> get_vector(std::size_t max_items)
    {
        const auto count = get<std::uint32_t>();
        if (count > max_items) {
            throw SnapshotError(what_ + ": " + std::to_string(count) + " items exceed the limit of " +
                                std::to_string(max_items));
        }
        need(static_cast<std::size_t>(count) * sizeof(T));
        std::vector<T> out(count);
        if (count > 0) {
            std::memcpy(out.data(), data_.data() + pos_, count * sizeof(T));
        }
        pos_ += count * sizeof(T);
        return out;
    }
    // Reads a section header, checks its tag and returns a reader over exactly its bytes.
    ByteReader section(std::uint32_t expected_tag, const std::string& name)
    {
        const auto tag = get<std::uint32_t>();
        if (tag != expected_tag) {
            throw SnapshotError(what_ + ": expected the " + name + " section, found tag " + std::to_string(tag));
        }
        const auto length = get<std::uint64_t>();
        need(length);
        ByteReader inner(data_.subspan(pos_, length), what_ + " (" + name + ")");
        pos_ += length;
        return inner;
    }
    bool at_end() const { return pos_ == data_.size(); }
    void expect_end() const
    {
        if (!at_end()) {
            throw SnapshotError(what_ + ": " + std::to_string(data_.size() - pos_) + " unexpected trailing bytes");
        }
    }

private:
    void need(std::uint64_t bytes) const
    {
        if (bytes > data_.size() - pos_) {
            throw SnapshotError(what_ + " is truncated (needed " + std::to_string(bytes) + " more bytes at offset " +
                                std::to_string(pos_) + ")");
        }
    }

    std::span<const std::uint8_t> data_;
    std::string what_;
    std::size_t pos_ = 0;
};

}  // namespace vdi::hv
