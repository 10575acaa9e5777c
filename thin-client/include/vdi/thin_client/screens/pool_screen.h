// The desktop choice after sign-in: the user's disconnected sessions to resume first, then one
// large button per entitled pool, busy pools shown disabled with the reason. GUI thread only.
#pragma once

#include <QList>
#include <QString>
#include <QWidget>

#include "vdi/common/api/desktop.h"

class QLabel;
class QPushButton;
class QVBoxLayout;

namespace vdi::thin_client::screens {

class BrandHeader;

class PoolScreen : public QWidget {
    Q_OBJECT
public:
    explicit PoolScreen(QWidget* parent = nullptr);

    void setTerminalName(const QString& name);
    void setUserName(const QString& user);  // "Signed in as <user>"
    // Rebuilds the choices: sessions in state "disconnected" as "Resume <desktop> (<pool>)", in
    // the list's order; then the pools, those without a ready desktop disabled as busy. Focus goes
    // to the first enabled choice.
    void setDesktops(const api::DesktopList& list);

    // The choice buttons in the order shown (resumes first), for tests and keyboard navigation.
    QList<QPushButton*> choiceButtons() const { return buttons_; }

signals:
    void poolChosen(const QString& pool);
    void resumeChosen(qint64 session_id, const QString& pool);
    void signOutRequested();

private:
    BrandHeader* header_;
    QLabel* user_;
    QLabel* empty_;
    QVBoxLayout* choices_;
    QList<QPushButton*> buttons_;
};

}  // namespace vdi::thin_client::screens
