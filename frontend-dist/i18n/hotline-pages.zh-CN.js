// 简体中文 — the hotline pages' own strings (issue 18): the follow-up call
// form on the case page, the supervisor's read-only queue and her hotline
// figures. Loaded with those pages (js/views/hotline-strings.js), not on
// first visit.
export default {
  'hl.follow_up': '安排跟进回访',
  'hl.follow_up_at': '回访时间',
  'hl.follow_up_notes': '回访事项',
  'hl.schedule': '安排回访',
  'hl.scheduled': '已安排回访，已进入回访队列',
  'hl.warn_unsafe': '当事人登记为“不宜来电”：不能安排回访。',
  'hl.warn_hours': '请选择她的安全通话时段内的时间（{hours}，北京时间）。',
  'err.unsafe_to_call': '当事人登记为“不宜来电”，不能安排回访。',
  'err.outside_safe_hours': '该时间不在她的安全通话时段内，请另选时间。',
  'err.no_number': '案件没有可回访的号码。',
  'err.field.due_at': '回访时间须在将来，且不超过 180 天。',
  'cb.readonly': '督办只能查看本辖区的回访，拨打与结果由热线记录。',
  'cb.notes_for': '回访事项',
  'hfig.title': '热线回访与满意度',
  'hfig.asked': '满意度回访（已答）',
  'hfig.rate': '满意率',
  'hfig.reopened': '不满意退回重办',
  'hfig.callbacks': '回访与回拨（按类型）',
  'hfig.by_answer': '满意度回答',
  'event.callback.overdue': '回访已到期仍未完成',
};
