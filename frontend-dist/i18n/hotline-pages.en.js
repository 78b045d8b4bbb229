// English — the hotline pages' own strings (issue 18), loaded with those
// pages (js/views/hotline-strings.js).
export default {
  'hl.follow_up': 'Schedule a follow-up call',
  'hl.follow_up_at': 'Call at',
  'hl.follow_up_notes': 'What the call is for',
  'hl.schedule': 'Schedule',
  'hl.scheduled': 'Follow-up call scheduled; it is in the callback queue',
  'hl.warn_unsafe': 'She is marked "unsafe to call": no follow-up call can be scheduled.',
  'hl.warn_hours': 'Choose a time within her safe hours ({hours}, Beijing time).',
  'err.unsafe_to_call': 'She is marked "unsafe to call"; no call can be scheduled.',
  'err.outside_safe_hours': 'That time is outside her safe hours; choose another.',
  'err.no_number': 'The case has no number to call.',
  'err.field.due_at': 'The call must be in the future, at most 180 days ahead.',
  'cb.readonly': 'Supervisors see their region\'s callbacks; the hotline records the calls and results.',
  'cb.notes_for': 'For',
  'hfig.title': 'Hotline callbacks and satisfaction',
  'hfig.asked': 'Satisfaction answers',
  'hfig.rate': 'Satisfaction rate',
  'hfig.reopened': 'Reopened as unsatisfied',
  'hfig.callbacks': 'Callbacks by kind',
  'hfig.by_answer': 'Satisfaction answers',
  'event.callback.overdue': 'Callback due and not done',
};
