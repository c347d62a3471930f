/**
 * A live terminal: xterm.js fed by the session's WebSocket. The server sends the screen as it is first, then
 * output; a dropped socket (daemon restart, slow link) reconnects and redraws from a fresh screen. Only a
 * focused terminal takes keys and sets the session's size, as `swarm attach` does; closing never kills.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';

type Frame = { t: 'replay'; data: string } | { t: 'exit'; exit_code: number | null; signal: string | null };

export function LiveTerminal(props: { session: string; focused: boolean; onEnded?: () => void }) {
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<'connecting' | 'live' | 'ended' | 'retrying'>('connecting');
  useEffect(() => {
    const term = new Terminal({
      cols: 120,
      rows: 40,
      fontSize: props.focused ? 14 : 7,
      scrollback: props.focused ? 5000 : 200,
      convertEol: false,
      disableStdin: !props.focused,
      cursorBlink: props.focused,
      theme: { background: '#0d1117' },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current!);
    let ws: WebSocket | null = null;
    // Keys typed before the socket opens (or while it reconnects) are sent once it is open, in order.
    const queued: string[] = [];
    let closedByUs = false;
    let retryMs = 300;
    let timer: number | undefined;
    const sendSize = (): void => {
      if (!props.focused || ws?.readyState !== WebSocket.OPEN) return;
      fit.fit();
      ws.send(JSON.stringify({ t: 'resize', cols: term.cols, rows: term.rows }));
    };
    const connect = (): void => {
      const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/sessions/${encodeURIComponent(props.session)}/terminal`);
      ws = socket;
      socket.binaryType = 'arraybuffer';
      socket.onopen = () => {
        retryMs = 300;
        setState('live');
        sendSize();
        for (const data of queued.splice(0)) socket.send(JSON.stringify({ t: 'input', data }));
      };
      socket.onmessage = (message: MessageEvent<string | ArrayBuffer>) => {
        if (message.data instanceof ArrayBuffer) return term.write(new Uint8Array(message.data));
        const frame = JSON.parse(message.data) as Frame;
        if (frame.t === 'replay') {
          term.reset();
          term.write(frame.data);
        } else {
          term.write(`\r\n\x1b[2m[session ended${frame.exit_code !== null ? `: exit ${frame.exit_code}` : frame.signal ? `: ${frame.signal}` : ''}]\x1b[0m\r\n`);
          closedByUs = true;
          setState('ended');
          props.onEnded?.();
        }
      };
      socket.onclose = (event) => {
        if (closedByUs) return;
        if (event.code === 4404 || event.code === 1000) {
          setState('ended');
          return;
        }
        setState('retrying');
        timer = window.setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 5000);
      };
    };
    connect();
    const input = term.onData((data) => {
      if (!props.focused) return;
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ t: 'input', data }));
      else queued.push(data);
    });
    const onResize = (): void => sendSize();
    window.addEventListener('resize', onResize);
    if (props.focused) term.focus();
    return () => {
      closedByUs = true;
      window.clearTimeout(timer);
      window.removeEventListener('resize', onResize);
      input.dispose();
      ws?.close();
      term.dispose();
    };
  }, [props.session, props.focused]);
  return (
    <div class={`term ${props.focused ? 'focused' : 'tile'}`} data-session={props.session} data-state={state}>
      <div class="term-host" ref={host} />
      {state === 'retrying' ? <div class="term-badge">reconnecting…</div> : null}
    </div>
  );
}
