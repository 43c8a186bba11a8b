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

openbox >/tmp/openbox.log 2>&1 &
xterm -geometry 100x30+40+40 -title "${KASM_USER:-kasm-user}" >/dev/null 2>&1 &

x11vnc -storepasswd "$VNC_PW" "$HOME/.vncpasswd" >/dev/null 2>&1
x11vnc -display :1 -localhost -rfbport 5901 -rfbauth "$HOME/.vncpasswd" -forever -shared -quiet \
    >/tmp/x11vnc.log 2>&1 &

exec websockify --web /usr/share/novnc 6901 localhost:5901
