#include "bundle/Logging.h"

Q_LOGGING_CATEGORY(lcBundle, "otafleet.bundle")
