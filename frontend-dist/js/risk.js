// The danger-screen rule of API.md, mirrored so the operator sees the result
// before submitting. The server computes it again; this is only a preview.
export const QUESTION_COUNT = 11;

export function computeRisk({ in_progress, answers, screener_concern }) {
  const a = answers || [];
  const first = a.slice(0, 3).filter(Boolean).length;
  const rest = a.slice(3, 11).filter(Boolean).length;
  if (in_progress) return { level: 'imminent', first, rest };
  if (first > 0 || rest >= 4 || screener_concern) return { level: 'high', first, rest };
  if (first + rest > 0) return { level: 'elevated', first, rest };
  return { level: 'none', first, rest };
}

export const escalates = (level) => level === 'high' || level === 'imminent';
