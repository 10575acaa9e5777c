// Argon2id password hashing (libsodium), with the hash's working memory kept resident.
//
// libsodium's Argon2id maps its working memory (64 MiB at the default cost) afresh for every
// hash, with MAP_POPULATE, and unmaps it afterwards: the kernel zeroes and maps 16,384 pages for
// every login, 40 to 60 ms of a 120 to 170 ms hash here (more after the machine sat idle, as a
// broker does between logins). libsodium calls mmap and munmap through its PLT, so the
// definitions below (linked into the programs that hash passwords: only this file's functions
// pull them in) take their place: while this thread is inside hash_password or verify_password,
// a large anonymous mapping is one of a few regions that stay mapped and populated between
// hashes, and its munmap hands it back. The hash, its cost and its output are unchanged; Argon2
// writes every block before it reads it, so the region is not cleared between hashes. It is the
// broker's private memory, excluded from core dumps (MADV_DONTDUMP). At most kRegions hashes
// at once use one (one per core, at most 4: more would only queue for the cores); beyond that,
// and for every other mapping on any thread, the calls are glibc's own (mmap64 is mmap under its
// other name; munmap is the plain system call). Cost: up to kRegions x 64 MiB resident once
// logins have happened.
#include "vdi/common/crypto.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <thread>

#include <sodium.h>

#include "vdi/common/error.h"

extern "C" void* vdi_libc_mmap64(void* addr, std::size_t length, int prot, int flags, int fd, off_t offset)
    __asm__("mmap64");
extern "C" void* vdi_password_mmap(void* addr, std::size_t length, int prot, int flags, int fd, off_t offset)
    __asm__("mmap");
extern "C" int vdi_password_munmap(void* addr, std::size_t length) __asm__("munmap");

namespace {

// True while this thread runs libsodium's Argon2id (static TLS: safe inside any mmap call).
[[gnu::tls_model("initial-exec")]] thread_local bool t_hashing = false;

constexpr std::size_t kRegions = 4;
constexpr std::size_t kMinHashMemory = 8u * 1024 * 1024;

int system_munmap(void* addr, std::size_t length)
{
    return static_cast<int>(syscall(SYS_munmap, addr, length));
}

// The resident regions. `address` is read without the lock by every munmap in the process, so
// that unmapping anything else costs one comparison per region.
class HashMemory {
public:
    void* take(std::size_t length, int prot, int flags)
    {
        std::lock_guard lock(mutex_);
        const std::size_t usable = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, kRegions);
        Region* spare = nullptr;
        for (std::size_t i = 0; i < usable; ++i) {
            Region& region = regions_[i];
            if (region.in_use) continue;
            if (region.address.load() != nullptr && region.length == length && region.prot == prot) {
                region.in_use = true;
                return region.address.load();
            }
            if (spare == nullptr || spare->address.load() != nullptr) spare = &region;
        }
        if (spare == nullptr) return nullptr;  // every region is hashing: glibc's own mapping
        if (void* old = spare->address.exchange(nullptr); old != nullptr) system_munmap(old, spare->length);
        void* memory = vdi_libc_mmap64(nullptr, length, prot, flags | MAP_POPULATE, -1, 0);
        if (memory == MAP_FAILED) return nullptr;
        madvise(memory, length, MADV_DONTDUMP);
        spare->length = length;
        spare->prot = prot;
        spare->in_use = true;
        spare->address.store(memory);
        return memory;
    }

    // True when `addr` was a region handed out by take(), now free again.
    bool give_back(void* addr)
    {
        if (addr == nullptr) return false;
        bool ours = false;
        for (const Region& region : regions_) ours = ours || region.address.load(std::memory_order_relaxed) == addr;
        if (!ours) return false;
        std::lock_guard lock(mutex_);
        for (Region& region : regions_) {
            if (region.address.load() == addr && region.in_use) {
                region.in_use = false;
                return true;
            }
        }
        return false;
    }

private:
    struct Region {
        std::atomic<void*> address{nullptr};
        std::size_t length = 0;
        int prot = 0;
        bool in_use = false;
    };
    std::mutex mutex_;
    std::array<Region, kRegions> regions_;
};

HashMemory& hash_memory()
{
    static HashMemory memory;  // constant-initialised apart from the mutex: usable from any mmap call
    return memory;
}

class HashingScope {
public:
    HashingScope() { t_hashing = true; }
    ~HashingScope() { t_hashing = false; }
    HashingScope(const HashingScope&) = delete;
    HashingScope& operator=(const HashingScope&) = delete;
};

void ensure_sodium()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) {
            throw vdi::Error("libsodium failed to initialise (no usable random source?)");
        }
    });
}

}  // namespace

extern "C" void* vdi_password_mmap(void* addr, std::size_t length, int prot, int flags, int fd, off_t offset)
{
    const bool hash_memory_call = t_hashing && addr == nullptr && fd == -1 && offset == 0 &&
                                  (flags & (MAP_ANONYMOUS | MAP_PRIVATE)) == (MAP_ANONYMOUS | MAP_PRIVATE) &&
                                  length >= kMinHashMemory;
    if (hash_memory_call) {
        if (void* region = hash_memory().take(length, prot, flags); region != nullptr) return region;
    }
    return vdi_libc_mmap64(addr, length, prot, flags, fd, offset);
}

extern "C" int vdi_password_munmap(void* addr, std::size_t length)
{
    if (hash_memory().give_back(addr)) return 0;
    return system_munmap(addr, length);
}

namespace vdi {

std::string hash_password(std::string_view password, const PasswordHashParams& params)
{
    ensure_sodium();
    const HashingScope hashing;
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops_limit, params.mem_limit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw Error("Argon2id password hashing ran out of memory; lower the memory limit in the configuration");
    }
    return out;
}

bool verify_password(std::string_view password, const std::string& encoded_hash)
{
    ensure_sodium();
    const HashingScope hashing;
    return crypto_pwhash_str_verify(encoded_hash.c_str(), password.data(), password.size()) == 0;
}

bool password_needs_rehash(const std::string& encoded_hash, const PasswordHashParams& params)
{
    ensure_sodium();
    return crypto_pwhash_str_needs_rehash(encoded_hash.c_str(), params.ops_limit, params.mem_limit) != 0;
}

}  // namespace vdi
