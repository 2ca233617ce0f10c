// Shape of `box doctor` results (CLI --json and GET /api/doctor behind the settings PIN).
export type DoctorVerdict = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  id: string;
  title: string;
  verdict: DoctorVerdict;
  detail: string;
}

export interface DoctorReport {
  ok: boolean;
  role: string | null;
  checks: DoctorCheck[];
}
