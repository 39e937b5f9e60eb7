// Tokenizer and recursive-descent parser behind DeviceFilter::parse. Internal to the library.
#pragma once

#include "rollout/DeviceFilter.h"

namespace otafleet::rollout {

class FilterParser {
public:
    [[nodiscard]] static Result<DeviceFilter> parse(QStringView expression);
};

}  // namespace otafleet::rollout
