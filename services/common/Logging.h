// Logging category of the common library; every target declares its own the same way.
#pragma once

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcCommon)
