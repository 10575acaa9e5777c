// The progress from sign-in to the first picture, stage by stage (done, current, pending), the
// desktop's name once the broker assigned one, and an error state with Retry and Cancel.
// GUI thread only.
#pragma once

#include <QString>
#include <QWidget>
#include <array>

class QLabel;
class QProgressBar;
class QPushButton;

namespace vdi::thin_client::screens {

class BrandHeader;

class ConnectingScreen : public QWidget {
    Q_OBJECT
public:
    enum class Stage { signed_in, desktop_assigned, display_connecting, first_picture };
    Q_ENUM(Stage)
    enum class Mark { pending, current, done, failed };
    Q_ENUM(Mark)
    static constexpr int stage_count = 4;

    explicit ConnectingScreen(QWidget* parent = nullptr);

    void setTerminalName(const QString& name);
    // The stages before `current` are done, `current` is in progress, the rest pending; clears an
    // error. Cancel is offered, Retry is not.
    void setStage(Stage current);
    // Every stage done (the picture is there; the caller switches to the view).
    void setFinished();
    // "Connecting to <desktop>"; empty until the broker assigned one.
    void setDesktopName(const QString& desktop);
    // The stage in progress failed: its mark turns to a cross, `message` says why and what to do,
    // Retry and Cancel are offered (Retry focused).
    void setError(const QString& message);

    Mark mark(Stage stage) const { return marks_[static_cast<int>(stage)]; }
    QString errorMessage() const;

signals:
    void retryRequested();
    void cancelRequested();

private:
    void setMark(int stage, Mark mark);

    BrandHeader* header_;
    QLabel* desktop_;
    std::array<QLabel*, stage_count> icons_{};
    std::array<QLabel*, stage_count> names_{};
    std::array<Mark, stage_count> marks_{};
    QProgressBar* busy_;
    QLabel* error_;
    QPushButton* retry_;
    QPushButton* cancel_;
    int current_ = 0;
};

}  // namespace vdi::thin_client::screens
