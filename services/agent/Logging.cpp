#include "agent/Logging.h"

Q_LOGGING_CATEGORY(lcAgent, "otafleet.agent")
