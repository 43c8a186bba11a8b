#!/bin/sh
# Desktop workspace: X on :1, a window manager and a terminal, VNC on localhost:5901 with the
# session's password, and noVNC + the websockify bridge on 6901 (HTTP + WebSocket /websockify).
set -eu
: "${VNC_PW:?VNC_PW must hold the session password}"
export DISPLAY=:1
resolution=${VNC_RESOLUTION:-1280x800}

# A resumed (stopped, then started) container keeps /tmp: the lock of the previous X server would
# make this one refuse to start, and the desktop stay black.
rm -f /tmp/.X1-lock /tmp/.X11-unix/X1
Xvfb :1 -screen 0 "${resolution}x24" -nolisten tcp >/tmp/xvfb.log 2>&1 &
for _ in $(seq 50); do [ -e /tmp/.X11-unix/X1 ] && break; sleep 0.1; done

# Up to 5 s until `check` (a command) succeeds.
within_5s() {
    for _ in $(seq 250); do
        "$@" && return 0
        sleep 0.02
    done
    return 1
}
root_window_shows() { obxprop --root 2>/dev/null | grep -q "$1"; }

# The order matters for the first frame (measured on this image): a terminal started while openbox
# starts sometimes maps only 4-20 s later, and x11vnc started on a still-black screen serves that
# black picture first. So the terminal first (its shell starts once its window is up), then openbox,
# which manages it as it starts, then x11vnc, so the first frame a viewer gets is the desktop.
xterm -geometry 100x30+40+40 -title "${KASM_USER:-kasm-user}" >/dev/null 2>&1 &
terminal=$!
within_5s pgrep -P "$terminal" >/dev/null || echo "the terminal did not start in 5 s" >&2
openbox >/tmp/openbox.log 2>&1 &
within_5s root_window_shows '^_NET_CLIENT_LIST(WINDOW) = [0-9]' || echo "openbox did not manage the terminal in 5 s" >&2

x11vnc -storepasswd "$VNC_PW" "$HOME/.vncpasswd" >/dev/null 2>&1
# -bg: x11vnc forks once it listens, so websockify never forwards to a port that refuses.
x11vnc -display :1 -localhost -rfbport 5901 -rfbauth "$HOME/.vncpasswd" -forever -shared -quiet \
    -bg -o /tmp/x11vnc.log >/dev/null 2>&1

exec websockify --web /usr/share/novnc 6901 localhost:5901
