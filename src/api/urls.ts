/** Addresses on the dashboard as a phone reaches it (`dashboard.public_url`, which may carry a path). */
export function dashboardUrl(publicUrl: string, path: string): string {
  return new URL(path.replace(/^\//, ''), publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`).href;
}
