// The audit view's rules as plain values: which entries a filter keeps (fleet::AuditFilter), the
// paging loop that keeps only the newest matches (fleet::collectAudit), the verdict's sentence,
// and the CSV export's guard against formulas in text from outside.
#include "fleet/AuditService.h"

#include <QTest>

Q_DECLARE_METATYPE(otafleet::fleet::AuditFilter)

using namespace otafleet;
using fleet::AuditFilter;
using fleet::AuditRecord;

namespace {

const QDateTime kNoon = QDateTime(QDate(2026, 3, 4), QTime(12, 0), Qt::UTC);

AuditRecord entry(qint64 id) {
    return AuditRecord{id,
                       kNoon.addSecs(id * 60),
                       id % 2 ? QStringLiteral("rita") : QStringLiteral("system"),
                       QStringLiteral("rollout:%1").arg(id % 3),
                       id % 2 ? QStringLiteral("rollout.create") : QStringLiteral("rollout.paused"),
                       QStringLiteral("wave %1 failed").arg(id),
                       {},
                       {}};
}

AuditFilter filterOf(const QString& actor, const QString& action = {}, const QString& subject = {},
                     const QString& text = {}, const QDateTime& from = {},
                     const QDateTime& to = {}) {
    AuditFilter f;
    f.actor = actor;
    f.action = action;
    f.subject = subject;
    f.text = text;
    f.from = from;
    f.to = to;
    return f;
}

}  // namespace

class TestAuditFilter : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void matches_data() {
        QTest::addColumn<AuditFilter>("filter");
        QTest::addColumn<bool>("kept");
        const AuditRecord e = entry(7);  // rita, rollout:1, rollout.create, 12:07
        QTest::newRow("empty") << AuditFilter{} << true;
        QTest::newRow("actor, any case") << filterOf(QStringLiteral("RIT")) << true;
        QTest::newRow("other actor") << filterOf(QStringLiteral("vic")) << false;
        QTest::newRow("action family") << filterOf(QString(), QStringLiteral("rollout.")) << true;
        QTest::newRow("other action") << filterOf(QString(), QStringLiteral("denied:")) << false;
        QTest::newRow("subject") << filterOf(QString(), QString(), QStringLiteral("rollout:1"))
                                 << true;
        QTest::newRow("text in detail")
            << filterOf(QString(), QString(), QString(), QStringLiteral("WAVE 7")) << true;
        QTest::newRow("text is the id")
            << filterOf(QString(), QString(), QString(), QStringLiteral("7")) << true;
        QTest::newRow("text nowhere")
            << filterOf(QString(), QString(), QString(), QStringLiteral("mallory")) << false;
        QTest::newRow("from, inclusive")
            << filterOf(QString(), QString(), QString(), QString(), e.time) << true;
        QTest::newRow("from, after")
            << filterOf(QString(), QString(), QString(), QString(), e.time.addSecs(1)) << false;
        QTest::newRow("to, inclusive")
            << filterOf(QString(), QString(), QString(), QString(), QDateTime(), e.time) << true;
        QTest::newRow("to, before")
            << filterOf(QString(), QString(), QString(), QString(), QDateTime(), e.time.addSecs(-1))
            << false;
        QTest::newRow("all of them")
            << filterOf(QStringLiteral("rita"), QStringLiteral("create"), QStringLiteral("rollout"),
                        QStringLiteral("failed"), e.time.addSecs(-60), e.time.addSecs(60))
            << true;
        QTest::newRow("one of them fails")
            << filterOf(QStringLiteral("rita"), QStringLiteral("paused")) << false;
    }

    void matches() {
        QFETCH(AuditFilter, filter);
        QFETCH(bool, kept);
        QCOMPARE(filter.matches(entry(7)), kept);
    }

    void collectKeepsTheNewestMatches() {
        QList<AuditRecord> log;
        for (qint64 id = 1; id <= 2500; ++id)
            log.append(entry(id));
        int pages = 0;
        const auto page = [&](qint64 after, int limit) -> Result<QList<AuditRecord>> {
            ++pages;
            return log.mid(after, limit);
        };
        const AuditFilter rita = filterOf(QStringLiteral("rita"));
        auto got = fleet::collectAudit(page, rita, 1000, 100);
        QVERIFY(got);
        QCOMPARE(got->scanned, 2500);
        QCOMPARE(pages, 3);
        QVERIFY(got->truncated);
        QCOMPARE(got->entries.size(), 100);
        QCOMPARE(got->entries.first().id, 2301);  // rita's are the odd ids
        QCOMPARE(got->entries.last().id, 2499);

        auto all = fleet::collectAudit(page, AuditFilter{}, 1000, 10000);
        QVERIFY(all);
        QVERIFY(!all->truncated);
        QCOMPARE(all->entries.size(), 2500);

        const auto broken = [](qint64, int) -> Result<QList<AuditRecord>> {
            return fail(QStringLiteral("server.unreachable"), QStringLiteral("gone"));
        };
        auto failed = fleet::collectAudit(broken, AuditFilter{}, 1000, 10);
        QVERIFY(!failed);
        QCOMPARE(failed.error().code, QStringLiteral("server.unreachable"));
    }

    void verdictSentence() {
        QCOMPARE((fleet::AuditCheck{true, 42, 0, {}}.sentence()),
                 QStringLiteral("The audit log is intact: 42 entries, each chained to the one "
                                "before."));
        const QString bad =
            fleet::AuditCheck{false, 9, 3, QStringLiteral("Audit entry 3 was altered: x.")}
                .sentence();
        QVERIFY(bad.startsWith(QStringLiteral("Audit entry 3 was altered: x.")));
        QVERIFY(bad.contains(QStringLiteral("Restore the database from a backup")));
    }

    void csvGuardsFormulas() {
        AuditRecord e = entry(1);
        e.detail = QStringLiteral("=HYPERLINK(\"http://evil\")");
        const QByteArray csv = fleet::auditCsv({e});
        QVERIFY(csv.startsWith("id,time,actor,action,subject,detail,prev_hash,entry_hash\r\n"));
        QVERIFY2(csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), csv.constData());
    }
};

QTEST_GUILESS_MAIN(TestAuditFilter)
#include "tst_auditfilter.moc"
