#!/usr/bin/env bash
# vdi-vmm --probe prints the KVM capabilities as JSON; without /dev/kvm the test is skipped (77).
set -euo pipefail
vmm=$1
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
    echo "SKIPPED: /dev/kvm is not available here"
    exit 77
fi
out=$("$vmm" --probe)
grep -q '"api_version": 12' <<<"$out" || { echo "unexpected probe output: $out"; exit 1; }
grep -q '"KVM_CAP_IRQCHIP": 1' <<<"$out" || { echo "KVM_CAP_IRQCHIP missing: $out"; exit 1; }
if "$vmm" --probe --kvm-device /dev/null-kvm 2>err.txt; then
    echo "probe of a missing device succeeded"; exit 1
fi
grep -q "cannot open /dev/null-kvm" err.txt || { echo "unclear error: $(cat err.txt)"; exit 1; }
rm -f err.txt
echo "vdi-vmm --probe ok"
