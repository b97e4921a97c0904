import { createSignal } from "solid-js";
import { api } from "./api/client.ts";
import { isUnauthenticated } from "./api/errors.ts";

export interface SessionUser {
  username: string;
}

/** undefined while the panel asks who is logged in, null when nobody is. */
const [user, setUser] = createSignal<SessionUser | null | undefined>(undefined);

export { user };

export async function loadSession(): Promise<void> {
  try {
    const me = await api.auth.me.query();
    setUser(me ? { username: me.username } : null);
  } catch (e: unknown) {
    if (isUnauthenticated(e)) setUser(null);
    else throw e;
  }
}

export async function logIn(username: string, password: string): Promise<void> {
  const me = await api.auth.login.mutate({ username, password });
  setUser({ username: me.username });
}

export async function logOut(): Promise<void> {
  try {
    await api.auth.logout.mutate();
  } finally {
    setUser(null);
  }
}

/** Any call that finds the session gone sends the panel back to the login screen. */
export function noticeSessionLoss(error: unknown): void {
  if (isUnauthenticated(error)) setUser(null);
}
