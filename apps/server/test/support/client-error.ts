import { TRPCClientError } from "@imapferry/sdk";

/** The API's error for a call expected to fail (null when it succeeded); other failures are thrown. */
export async function errorOf(promise: Promise<unknown>): Promise<TRPCClientError<never> | null> {
  try {
    await promise;
    return null;
  } catch (e: unknown) {
    if (e instanceof TRPCClientError) return e as TRPCClientError<never>;
    throw e;
  }
}
