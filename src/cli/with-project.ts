import { openProject, type Project } from '../config/project.js';

/** Opens the project for one command and always closes its registry. */
export async function withProject<T>(cwd: string | undefined, fn: (project: Project) => Promise<T>): Promise<T> {
  const project = await openProject(cwd ?? process.cwd());
  try {
    return await fn(project);
  } finally {
    project.registry.close();
  }
}
