// 简体中文 — the shift console's strings (issue 19): waiting calls, the
// call in hand, alerts, help.
export default {
  'calls.waiting': '等待中的来电（{n}）',
  'calls.unknown': '未知号码',
  'calls.ringing': '振铃中',
  'calls.draft_kept': '草稿已保留',
  'calls.take': '接听',
  'calls.resume': '切换到此来电',
  'calls.take_label': '切换到来电 {phone}',
  'calls.cases': '{n} 件案件',
  'calls.no_history': '无历史记录',
  'calls.in_ledger': '在信息台账中',
  'calls.queued': '新来电 {phone} 在等待，当前表单未改动',
  'calls.resumed': '继续通话：{phone}',
  'calls.end': '结束通话',
  'calls.end_confirm': '表单中有尚未提交的内容。结束通话将清空它，确定吗？',
  'calls.received_by': '承办单位',
  'calls.police': '已预警公安',
  'calls.no_police': '未发起安全预警',
  'calls.accept_by': '签收时限',
  'calls.resolve_by': '办结时限',
  'calls.kept': '已填写的内容均已保留，可再次提交。',
};
