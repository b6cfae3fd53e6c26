// SyslogAddr (docs/settings.md: host:port) split for node:dgram. Pure. Accepts what Go's net.Dial
// accepted for the Go original: `host:port`, `1.2.3.4:port`, `[::1]:port`, and `:port` for
// the local host.

export interface SyslogAddress { host: string; port: number }

export function parseSyslogAddress(value: string): SyslogAddress {
  const text = value.trim();
  const match = /^(?:\[([0-9A-Fa-f:.%\w-]+)\]|([^\s:[\]]*)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new RangeError(`SyslogAddr ${JSON.stringify(value)} is not host:port`);
  }
  // Go dials the local system for an empty host; 127.0.0.1 is what that reaches for UDP.
  const host = match[1] ?? (match[2] || '127.0.0.1');
  return { host, port };
}
