// The in-app notice: a bar above the console's tabs that shows the newest notification (what
// happened and why) until it is dismissed, and how many more came meanwhile. Non-modal: work
// goes on under it. "Show" asks to open what it is about (a rollout, a device, a release).
#pragma once

#include "fleet/Notifier.h"

#include <QFrame>

class QLabel;
class QPushButton;

namespace otafleet::ui {

class NotificationBar : public QFrame {
    Q_OBJECT
public:
    explicit NotificationBar(QWidget* parent = nullptr);

    void present(const fleet::Notification& notification);
    [[nodiscard]] QString text() const;
    [[nodiscard]] int unseen() const { return m_unseen; }
    [[nodiscard]] QPushButton* showButton() const { return m_show; }
    [[nodiscard]] QPushButton* dismissButton() const { return m_dismiss; }

public Q_SLOTS:
    void dismiss();

Q_SIGNALS:
    void showRequested(const QString& subject, otafleet::fleet::NotificationKind kind);

private:
    QLabel* m_text = nullptr;
    QPushButton* m_show = nullptr;
    QPushButton* m_dismiss = nullptr;
    fleet::Notification m_current;
    int m_unseen = 0;
};

}  // namespace otafleet::ui
