// Logging category of the console executable (start-up, demo environment).
#pragma once

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcConsole)
