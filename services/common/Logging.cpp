#include "common/Logging.h"

Q_LOGGING_CATEGORY(lcCommon, "otafleet.common", QtInfoMsg)
