#!/usr/bin/env bash
# vdi-vmm carries the VMM and nothing else: no database client (libpq, libpqxx, vdi::db), no host
# agent (vdi::hostd), no fake hypervisor backend (test code).
set -euo pipefail
vmm=$1
if ldd "$vmm" | grep -E 'libpq'; then
    echo "vdi-vmm links PostgreSQL's client libraries (above); the VMM has no database access"; exit 1
fi
symbols=$(nm -C "$vmm")
grep -q 'vdi::hv::Machine::' <<<"$symbols" || { echo "no vdi::hv::Machine symbols in $vmm: cannot tell what it contains"; exit 1; }
for pattern in 'pqxx::' 'vdi::db::' 'vdi::hostd::' 'vdi::hv::FakeHypervisor' 'vdi::hv::FakeVcpu'; do
    if grep -q -- "$pattern" <<<"$symbols"; then
        echo "vdi-vmm contains $pattern code: it belongs to another target"; exit 1
    fi
done
echo "vdi-vmm: no database, host-agent or fake-backend code"
