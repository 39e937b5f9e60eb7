// Logging category of the link library (plugin loading, link lifecycle).
#pragma once

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcLink)
