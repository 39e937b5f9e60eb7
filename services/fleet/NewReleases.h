// Which of the releases a fleet lists now the console has not seen before: the first list is
// what was there when the console started (nothing new); every later one yields the releases
// whose id it has not seen. Shared by RemoteAlerts and EmbeddedAlerts.
#pragma once

#include <QList>
#include <QSet>
#include <QString>

namespace otafleet::fleet {

struct ReleaseSighting {
    QString id;
    QString version;
    QString detail;  // a sentence: what it is and who brought it
};

class NewReleases {
public:
    [[nodiscard]] QList<ReleaseSighting> take(const QList<ReleaseSighting>& listed) {
        QList<ReleaseSighting> fresh;
        for (const ReleaseSighting& r : listed) {
            if (m_seen.contains(r.id))
                continue;
            m_seen.insert(r.id);
            if (m_baseline)
                fresh.append(r);
        }
        m_baseline = true;
        return fresh;
    }

private:
    QSet<QString> m_seen;
    bool m_baseline = false;
};

}  // namespace otafleet::fleet
