// Rollouts waiting for an approval (production rollouts nobody approved yet), with the plan of
// the selected one as a sentence, Approve and Reject. Approve is disabled, with the reason as its
// tooltip, when fleet::approvalBlocker() says the user may not approve (the author of a
// production rollout never approves it) or the user's role may not approve (a server's RBAC).
// Reject aborts the rollout. Against a server the approver is the signed-in user, whoever the
// inbox was made for.
#pragma once

#include "fleet/RolloutService.h"

#include <QSet>
#include <QSortFilterProxyModel>
#include <QWidget>

class QLabel;
class QPushButton;
class QTableView;

namespace otafleet::ui {

class RolloutTableModel;

// RolloutTableModel's rows that await an approval (RolloutTableModel::AwaitsApprovalRole);
// rows come and go as rollouts are created, approved or aborted.
class AwaitingApprovalModel : public QSortFilterProxyModel {
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

protected:
    [[nodiscard]] bool filterAcceptsRow(int sourceRow,
                                        const QModelIndex& sourceParent) const override;
};

class ApprovalInbox : public QWidget {
    Q_OBJECT
public:
    // `user` is who approves from here.
    ApprovalInbox(fleet::RolloutService& rollouts, QString user, QWidget* parent = nullptr);

    [[nodiscard]] QTableView* table() const { return m_table; }
    [[nodiscard]] AwaitingApprovalModel* model() const { return m_proxy; }
    [[nodiscard]] qint64 selectedRollout() const;
    void selectRollout(qint64 id);

Q_SIGNALS:
    // How many rollouts wait now (for a tab title or a badge).
    void pendingCountChanged(int count);

private:
    void showSelected();
    void act(fleet::RolloutAction action);
    // Who approves: the user the server signed in, else the one this inbox was made for.
    [[nodiscard]] QString user() const;

    fleet::RolloutService& m_rollouts;
    QString m_user;
    RolloutTableModel* m_source = nullptr;
    AwaitingApprovalModel* m_proxy = nullptr;
    QTableView* m_table = nullptr;
    QLabel* m_details = nullptr;
    QLabel* m_message = nullptr;
    QPushButton* m_approve = nullptr;
    QPushButton* m_reject = nullptr;
    QSet<quint64> m_pending;  // requests sent from here
};

}  // namespace otafleet::ui
