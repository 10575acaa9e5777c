// An interrupt line that records its levels, for device tests.
#pragma once

#include <vector>

#include "vdi/hv/devices/interrupt_line.h"

struct RecordingLine : vdi::hv::InterruptLine {
    std::vector<bool> levels;
    bool level = false;
    void set_level(bool l) override
    {
        levels.push_back(l);
        level = l;
    }
    // rising edges seen so far
    int edges() const
    {
        int n = 0;
        bool previous = false;
        for (bool l : levels) {
            n += (l && !previous);
            previous = l;
        }
        return n;
    }
};
