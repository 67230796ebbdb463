package sesv1

import (
	"context"

	"github.com/sesamehq/sesame/internal/api/v1wire"
)

func (s *Service) GetSendQuota(ctx context.Context, _ *v1wire.GetSendQuotaInput) (*v1wire.GetSendQuotaResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	q, err := s.Accounts.Quota(ctx, acct)
	if err != nil {
		return nil, wireError(err)
	}
	return &v1wire.GetSendQuotaResponse{Max24HourSend: &q.Max24h, MaxSendRate: &q.MaxRate, SentLast24Hours: &q.SentLast24Hours}, nil
}

func (s *Service) GetSendStatistics(ctx context.Context, _ *v1wire.GetSendStatisticsInput) (*v1wire.GetSendStatisticsResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	points, err := s.Queue.Statistics(ctx, acct)
	if err != nil {
		return nil, wireError(err)
	}
	out := &v1wire.GetSendStatisticsResponse{SendDataPoints: make([]v1wire.SendDataPoint, len(points))}
	for i, p := range points {
		out.SendDataPoints[i] = v1wire.SendDataPoint{Timestamp: &p.Timestamp, DeliveryAttempts: &p.DeliveryAttempts,
			Bounces: &p.Bounces, Complaints: &p.Complaints, Rejects: &p.Rejects}
	}
	return out, nil
}

func (s *Service) GetAccountSendingEnabled(ctx context.Context, _ *v1wire.GetAccountSendingEnabledInput) (*v1wire.GetAccountSendingEnabledResponse, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.Accounts.Get(ctx, acct)
	if err != nil {
		return nil, wireError(err)
	}
	return &v1wire.GetAccountSendingEnabledResponse{Enabled: &a.SendingEnabled}, nil
}

func (s *Service) UpdateAccountSendingEnabled(ctx context.Context, in *v1wire.UpdateAccountSendingEnabledRequest) (*v1wire.UpdateAccountSendingEnabledOutput, error) {
	acct, err := accountOf(ctx)
	if err != nil {
		return nil, err
	}
	enabled := in.Enabled != nil && *in.Enabled
	if err := s.Accounts.SetSendingEnabled(ctx, acct, enabled); err != nil {
		return nil, wireError(err)
	}
	return &v1wire.UpdateAccountSendingEnabledOutput{}, nil
}
